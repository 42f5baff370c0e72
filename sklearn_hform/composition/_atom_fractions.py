"""Formulas, ``Composition`` objects and dicts to atom-fraction matrices: the featurizer's hot path.

:func:`fraction_matrix` featurizes many entries without building a pymatgen
``Composition`` per formula: each distinct string is parsed once, plain
formulas all together (see :mod:`sklearn_hform.composition`). Every bad row is
reported with its position and value; nothing silently becomes zeros, NaN or
another row's answer: strings with control characters (NUL included) are
refused before any hashing, amounts as large as 1e308 are normalised without
overflowing, and a single very long string costs memory for itself only.
"""

import math
import numbers
import re

import numpy as np
import pandas as pd

from ._formula import ATOMIC_NUMBER, PLAIN_FORMULA, FormulaError, parse_or_reason, tokenize_plain

__all__ = ["MAX_FORMULA_LENGTH", "as_formula_array", "fraction_matrix"]

#: Longest formula (in characters, after stripping white space) that is parsed.
MAX_FORMULA_LENGTH = 10_000
# C0 controls but tab, line feed and carriage return (white space around a
# formula is stripped), and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _string_problem(raw, text):
    """Why a string (as given, and stripped) cannot be a formula, before parsing it; or None."""
    # Controls are looked for before stripping: Python counts \x1c-\x1f as
    # white space and would strip them silently.
    m = _CONTROL.search(raw)
    if m:
        return f"control character {m.group()!r} at position {m.start()}"
    if len(text) > MAX_FORMULA_LENGTH:
        return f"longer than {MAX_FORMULA_LENGTH:,} characters ({len(text):,})"
    return None


def as_formula_array(X):
    """Return ``(values, labels)``: a 1-D object array of entries and the
    pandas index labels (``None`` for non-pandas input)."""
    labels = None
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(f"expected a DataFrame with exactly one column of formulas, got {X.shape[1]} columns")
        labels = X.index
        X = X.iloc[:, 0]
    if isinstance(X, pd.Series):
        labels = X.index
        values = X.to_numpy(dtype=object)
    elif isinstance(X, str) or _is_composition_like(X) or isinstance(X, dict):
        raise TypeError(
            "expected a collection of formulas (list, array, Series or "
            f"one-column DataFrame), got a single {type(X).__name__}; wrap it in a list"
        )
    else:
        if isinstance(X, np.ndarray) or (len(X) and isinstance(X[0], (list, tuple, np.ndarray))):
            values = np.asarray(X, dtype=object)
        else:
            # fromiter keeps Composition and dict entries whole where
            # asarray would try to unpack them.
            values = np.fromiter(X, dtype=object, count=len(X))
        if values.ndim == 2:
            if values.shape[1] != 1:
                raise ValueError(
                    "expected a 2-D array with exactly one column of formulas, "
                    f"got shape {values.shape}"
                )
            values = values[:, 0]
        elif values.ndim != 1:
            raise ValueError(f"expected 1-D or single-column 2-D input, got {values.ndim}-D")
    if isinstance(labels, pd.RangeIndex) and labels.start == 0 and labels.step == 1:
        labels = None  # positions already say it
    return values, labels


def _is_composition_like(obj):
    return hasattr(obj, "get_el_amt_dict")


def _is_missing(obj):
    return obj is None or (isinstance(obj, numbers.Real) and math.isnan(obj)) or obj is pd.NA


def fraction_matrix(values, labels, column_of):
    """Atom fractions of every entry, one column per element in ``column_of``.

    Parameters
    ----------
    values : 1-D object ndarray
        Formulas (str), pymatgen ``Composition`` objects or ``{element: amount}``
        mappings, mixed freely.
    labels : pandas Index or None
        Row labels used in error messages.
    column_of : dict
        Maps element symbol to output column.

    Returns
    -------
    ndarray of shape (len(values), len(column_of)), dtype float64

    Raises
    ------
    TypeError
        If an entry is of an unsupported type.
    FormulaError
        Listing every bad row: unparsable formula, unknown element, element
        outside ``column_of``, missing value or non-positive total.
    """
    n = len(values)
    is_str, mappings, problems = _split_entries(values, labels)
    str_rows, texts, bad_strings = _check_strings(values, labels, np.flatnonzero(is_str))
    problems.extend(bad_strings)
    codes, uniques = pd.factorize(pd.Index(texts, dtype=object))
    uniques = np.asarray(uniques, dtype=object)
    n_unique = len(uniques)
    mapping_rows = list(mappings)
    n_units = n_unique + len(mapping_rows)

    rows, syms, amts, bad_unique = _parse_units(uniques, mappings)
    unit_problem = {}
    cols = _entry_columns(rows, syms, column_of, unit_problem)
    rows, cols, amts, totals = _scaled_amounts(rows, cols, amts, n_units, unit_problem)
    unit_problem.update(bad_unique)
    if unit_problem:
        problems.extend(_unit_row_problems(values, labels, unit_problem, str_rows, codes, mapping_rows, n_unique))
    if problems:
        problems.sort(key=lambda p: p[0])
        raise FormulaError(problems)

    units = _scatter_fractions(rows, cols, amts, totals, (n_units, len(column_of)))
    return _rows_of_units(units, n, str_rows, codes, mapping_rows, n_unique)


def _label(labels, i):
    """Label of row ``i`` for error messages (None without labels)."""
    return None if labels is None else labels[i]


def _split_entries(values, labels):
    """Flag the string entries; read the others: ``(is_str, mappings, missing)``.

    Raises a TypeError listing every entry of an unsupported type.
    """
    kinds = np.fromiter((type(v) is str for v in values), dtype=bool, count=len(values))
    wrong_type = []
    mappings = {}  # row -> {symbol: amount} for non-string entries
    missing = []
    for i in np.flatnonzero(~kinds):
        v = values[i]
        if isinstance(v, str):  # str subclass, e.g. numpy.str_
            kinds[i] = True
        elif _is_missing(v):
            missing.append((i, _label(labels, i), v, "missing value"))
        elif _is_composition_like(v) or isinstance(v, dict):
            items = v.get_el_amt_dict().items() if _is_composition_like(v) else v.items()
            try:
                mappings[i] = {str(k): float(a) for k, a in items}
            except (TypeError, ValueError):
                missing.append((i, _label(labels, i), v, "amounts must be numbers"))
        else:
            wrong_type.append((i, _label(labels, i), v, f"unsupported type {type(v).__name__}"))
    if wrong_type:
        error = TypeError(str(FormulaError(wrong_type, what="entry of unsupported type")))
        error.problems = FormulaError(wrong_type).problems
        raise error
    return kinds, mappings, missing


def _check_strings(values, labels, str_rows):
    """Stripped text of the string rows that may be formulas: ``(str_rows, texts, problems of the others)``."""
    # Strings are checked before factorizing: hashing would treat
    # "NaCl\x00..." as "NaCl", and a fixed-width array of all strings would
    # be as wide as the longest one. One search over all of them finds the
    # common case, no problem at all, fast.
    problems = []
    raw = values[str_rows]
    texts = pd.Series(raw, dtype=object).str.strip().to_numpy(dtype=object)
    longest = max(map(len, texts)) if len(texts) else 0
    if longest > MAX_FORMULA_LENGTH or _CONTROL.search("\n".join(raw)):
        reasons = [_string_problem(r, t) for r, t in zip(raw, texts)]
        clean = np.array([r is None for r in reasons], dtype=bool)
        problems.extend((i, _label(labels, i), values[i], r) for i, r in zip(str_rows, reasons) if r is not None)
        str_rows, texts = str_rows[clean], texts[clean]
    return str_rows, texts, problems


def _parse_units(uniques, mappings):
    """Flat ``(unit, symbol, amount)`` entries of every unit, and the reasons of the unparsable ones.

    The units are the unique strings first, then the mapping rows.
    """
    n_unique = len(uniques)
    unit_rows, unit_syms, unit_amts = [], [], []
    bad_unique = {}

    plain = np.fromiter((PLAIN_FORMULA.fullmatch(u) is not None for u in uniques), bool, n_unique)
    plain_idx = np.flatnonzero(plain)
    if len(plain_idx):
        rows, syms, amts = tokenize_plain(uniques[plain_idx])
        unit_rows.append(plain_idx[rows])
        unit_syms.append(syms)
        unit_amts.append(amts)
    for u in np.flatnonzero(~plain):
        parsed, reason = parse_or_reason(uniques[u])
        if parsed is None:
            bad_unique[u] = reason
            continue
        unit_rows.append(np.full(len(parsed), u))
        unit_syms.append(np.asarray(list(parsed), dtype=object))
        unit_amts.append(np.fromiter(parsed.values(), np.float64, len(parsed)))
    for k, m in enumerate(mappings.values()):
        unit_rows.append(np.full(len(m), n_unique + k))
        unit_syms.append(np.asarray(list(m), dtype=object))
        unit_amts.append(np.asarray(list(m.values()), dtype=np.float64))

    if unit_rows:
        rows, syms, amts = np.concatenate(unit_rows), np.concatenate(unit_syms), np.concatenate(unit_amts)
    else:
        rows, syms, amts = np.zeros(0, int), np.zeros(0, object), np.zeros(0)
    return rows, syms, amts, bad_unique


def _entry_columns(rows, syms, column_of, unit_problem):
    """Output column of every entry, -1 for a symbol outside ``column_of`` (its unit's problem is recorded)."""
    sym_code, distinct = pd.factorize(syms)
    col_of_distinct = np.array([column_of.get(s, -1) for s in distinct], dtype=np.intp)
    cols = col_of_distinct[sym_code] if len(syms) else np.zeros(0, np.intp)
    for j in np.flatnonzero(col_of_distinct < 0):
        s = distinct[j]
        known = s in ATOMIC_NUMBER
        reason = f"element {str(s)!r} is not among the transformer's elements" if known else f"unknown element symbol {str(s)!r}"
        for u in np.unique(rows[sym_code == j]):
            unit_problem.setdefault(u, reason)
    return cols


def _scaled_amounts(rows, cols, amts, n_units, unit_problem):
    """Entries inside the columns, amounts scaled by their unit's largest, and each unit's total.

    Units with a bad amount or a total that is not positive have their problem recorded.
    """
    bad_amount = ~np.isfinite(amts) | (amts < 0)
    for u in np.unique(rows[bad_amount]):
        unit_problem.setdefault(u, "amounts must be finite and non-negative")
    ok = cols >= 0
    rows, cols, amts = rows[ok], cols[ok], amts[ok]
    # Amounts are scaled by each unit's largest before summing, so that
    # counts near the float limit (1e308 + 1e308) cannot overflow to inf.
    largest = np.zeros(n_units)
    np.maximum.at(largest, rows, amts)
    with np.errstate(divide="ignore", invalid="ignore"):
        amts = amts / largest[rows]
    totals = np.bincount(rows, weights=amts, minlength=n_units)
    for u in np.flatnonzero(~(totals > 0)):
        unit_problem.setdefault(u, "total amount is not positive")
    return rows, cols, amts, totals


def _unit_row_problems(values, labels, unit_problem, str_rows, codes, mapping_rows, n_unique):
    """The problem of each bad unit, once for every row that is that unit."""
    problems = []
    bad_rows = np.zeros(n_unique + len(mapping_rows), bool)
    bad_rows[list(unit_problem)] = True
    for pos in np.flatnonzero(bad_rows[codes]):
        i = str_rows[pos]
        problems.append((i, _label(labels, i), values[i], unit_problem[codes[pos]]))
    for k, i in enumerate(mapping_rows):
        if n_unique + k in unit_problem:
            problems.append((i, _label(labels, i), values[i], unit_problem[n_unique + k]))
    return problems


def _scatter_fractions(rows, cols, amts, totals, shape):
    """Dense atom-fraction matrix of the units, of ``shape`` (units, columns)."""
    # Scatter the already-normalised fractions: cheaper than normalising a
    # dense matrix. Plain assignment keeps only the last of repeated
    # elements (FeOFe); those rows no longer sum to 1 and are redone with
    # the slower, accumulating add.at.
    fractions = amts / totals[rows]
    units = np.zeros(shape)
    units[rows, cols] = fractions
    short = np.abs(units.sum(axis=1) - 1.0) > 1e-9
    if short.any():
        redo = short[rows]
        units[short] = 0.0
        np.add.at(units, (rows[redo], cols[redo]), fractions[redo])
    return units


def _rows_of_units(units, n, str_rows, codes, mapping_rows, n_unique):
    """One row per entry, in input order, from the rows of the units."""
    if len(units) == n and np.array_equal(codes, np.arange(n)):
        return units  # all distinct strings in order: skip a copy of the result
    out = np.empty((n, units.shape[1]))
    out[str_rows] = units[codes]
    if mapping_rows:
        out[mapping_rows] = units[n_unique:]
    return out
