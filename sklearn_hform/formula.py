"""Chemical formula parsing and the element table.

The hot path (:func:`fraction_matrix`) featurizes many formulas without building
a pymatgen ``Composition`` per formula: plain formulas such as ``Al1Sm1Tm1`` or
``Li0.5CoO2`` are tokenized by one regular-expression pass over all of them at
once, and only formulas with brackets or hydrate separators go through the
recursive parser. Each distinct formula is parsed once.
"""

import math
import numbers
import re

import numpy as np
import pandas as pd

# Symbols by atomic number (Z = index + 1), H to Og.
SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu "
    "Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba "
    "La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb "
    "Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs "
    "Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
).split()
ATOMIC_NUMBER = {s: z for z, s in enumerate(SYMBOLS, start=1)}

#: The default feature set: hydrogen to plutonium, by atomic number.
DEFAULT_ELEMENTS = tuple(SYMBOLS[: ATOMIC_NUMBER["Pu"]])

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_TOKEN = rf"([A-Z][a-z]?)({_NUMBER}?)"
# A whole batch of plain formulas, one per line.
_PLAIN = re.compile(rf"(?:[A-Z][a-z]?{_NUMBER}?)+")
_FLAT_TOKEN = re.compile(rf"[A-Z][a-z]?|{_NUMBER}|\n")
_NUMBER_AT = re.compile(_NUMBER)
_HYDRATE_SEPARATORS = "·•*"
_CLOSING = {"(": ")", "[": "]"}
# How many bad rows an error message lists before it only counts the rest.
_MAX_LISTED = 5


class FormulaError(ValueError):
    """One or more formulas could not be parsed.

    Attributes
    ----------
    problems : list of (row, label, value, reason)
        Every bad row, in input order.
    """

    def __init__(self, problems, what="invalid formula"):
        problems = [(int(row), label, value, reason) for row, label, value, reason in problems]
        self.problems = problems
        lines = [f"row {row}{_label(label)}: {value!r}: {reason}" for row, label, value, reason in problems[:_MAX_LISTED]]
        more = len(problems) - _MAX_LISTED
        if more > 0:
            lines.append(f"... and {more} more bad row(s)")
        head = f"{len(problems)} {what}{'s' if len(problems) > 1 else ''}:"
        super().__init__("\n  ".join([head, *lines]))


def _label(label):
    return "" if label is None else f" (index {label!r})"


class _ParseError(Exception):
    pass


def parse_formula(formula):
    """Parse one formula into ``{symbol: amount}``.

    Parameters
    ----------
    formula : str
        Element symbols with optional integer or decimal counts, nested ``()``
        and ``[]`` groups with multipliers, hydrate parts after ``·``, ``•``
        or ``*`` (each with an optional leading multiplier, as in
        ``CuSO4·5H2O``) and surrounding white space.

    Returns
    -------
    dict
        Amount of each element; repeated elements are summed.

    Raises
    ------
    ValueError
        If the formula is outside the grammar, names an unknown element or has
        a non-positive total amount.
    """
    try:
        amounts = _parse(formula.strip())
    except _ParseError as exc:
        raise ValueError(f"invalid formula {formula!r}: {exc}") from None
    return amounts


def _parse(text):
    if not text:
        raise _ParseError("empty formula")
    if _PLAIN.fullmatch(text):
        amounts = {}
        for sym, count in re.findall(_TOKEN, text):
            _check_symbol(sym)
            amounts[sym] = amounts.get(sym, 0.0) + (float(count) if count else 1.0)
    else:
        amounts = _parse_general(text)
    total = sum(amounts.values())
    if not total > 0:
        raise _ParseError("total amount is not positive")
    return amounts


def _check_symbol(sym):
    if sym not in ATOMIC_NUMBER:
        raise _ParseError(f"unknown element symbol {sym!r}")


def _parse_general(text):
    """Recursive-descent parser for formulas with groups or hydrate parts."""
    amounts = {}
    pos = 0
    first = True
    while True:
        multiplier = 1.0
        if not first:
            m = _NUMBER_AT.match(text, pos)
            if m:
                multiplier = float(m.group())
                pos = m.end()
        part, pos = _parse_group(text, pos, closing=None)
        if not part:
            raise _ParseError(f"no element at position {pos}")
        for sym, amt in part.items():
            amounts[sym] = amounts.get(sym, 0.0) + multiplier * amt
        if pos == len(text):
            return amounts
        if text[pos] in _HYDRATE_SEPARATORS:
            pos += 1
            first = False
            continue
        raise _ParseError(f"unexpected character {text[pos]!r} at position {pos}")


def _parse_group(text, pos, closing):
    amounts = {}
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch in _CLOSING:
            inner, pos = _parse_group(text, pos + 1, closing=_CLOSING[ch])
            if not inner:
                raise _ParseError(f"empty group before position {pos}")
        elif ch.isupper():
            sym = ch
            if pos + 1 < n and text[pos + 1].islower():
                sym = text[pos : pos + 2]
            _check_symbol(sym)
            inner = {sym: 1.0}
            pos += len(sym)
        elif ch == closing:
            return amounts, pos + 1
        elif ch in ")]":
            raise _ParseError(f"unbalanced {ch!r} at position {pos}")
        else:
            break
        m = _NUMBER_AT.match(text, pos)
        factor = 1.0
        if m:
            factor = float(m.group())
            pos = m.end()
        for sym, amt in inner.items():
            amounts[sym] = amounts.get(sym, 0.0) + factor * amt
    if closing is not None:
        raise _ParseError(f"missing {closing!r}")
    return amounts, pos


def _tokenize_plain(formulas):
    """Tokenize plain formulas (no groups) all at once.

    One regular-expression pass over the newline-joined formulas gives a flat
    list of tokens; the few distinct tokens are classified in Python and the
    rest is array arithmetic, so the cost per formula stays far below that of
    building a dict per formula.

    Returns
    -------
    rows, symbols, amounts : ndarrays, one entry per element token
        ``rows`` indexes ``formulas``.
    """
    tokens = _FLAT_TOKEN.findall("\n".join(formulas) + "\n")
    codes, distinct = pd.factorize(np.asarray(tokens, dtype=object))
    # kind: 0 symbol, 1 number, 2 line end
    kind = np.array([0 if t[0].isupper() else 2 if t == "\n" else 1 for t in distinct])
    value = np.array([float(t) if k == 1 else 1.0 for t, k in zip(distinct, kind)])
    kinds = kind[codes]
    line_end = kinds == 2
    sym_pos = np.flatnonzero(kinds == 0)
    rows = (np.cumsum(line_end) - line_end)[sym_pos]
    after = codes[sym_pos + 1]  # every formula ends in a line end, so this exists
    amounts = np.where(kind[after] == 1, value[after], 1.0)
    return rows, distinct[codes[sym_pos]], amounts


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

    def label(i):
        return None if labels is None else labels[i]

    kinds = np.fromiter((type(v) is str for v in values), dtype=bool, count=n)
    wrong_type = []
    mappings = {}  # row -> {symbol: amount} for non-string entries
    missing = []
    for i in np.flatnonzero(~kinds):
        v = values[i]
        if isinstance(v, str):  # str subclass, e.g. numpy.str_
            kinds[i] = True
        elif _is_missing(v):
            missing.append((i, label(i), v, "missing value"))
        elif _is_composition_like(v) or isinstance(v, dict):
            items = v.get_el_amt_dict().items() if _is_composition_like(v) else v.items()
            try:
                mappings[i] = {str(k): float(a) for k, a in items}
            except (TypeError, ValueError):
                missing.append((i, label(i), v, "amounts must be numbers"))
        else:
            wrong_type.append((i, label(i), v, f"unsupported type {type(v).__name__}"))
    if wrong_type:
        error = TypeError(str(FormulaError(wrong_type, what="entry of unsupported type")))
        error.problems = FormulaError(wrong_type).problems
        raise error

    problems = missing
    str_rows = np.flatnonzero(kinds)
    codes, uniques = pd.factorize(pd.Index(values[str_rows].astype(str)).str.strip())
    uniques = np.asarray(uniques, dtype=object)
    n_unique = len(uniques)
    n_cols = len(column_of)

    # Entries per parsed unit: unique strings first, then mapping rows.
    unit_rows, unit_syms, unit_amts = [], [], []
    bad_unique = {}

    plain = np.fromiter((_PLAIN.fullmatch(u) is not None for u in uniques), bool, n_unique)
    plain_idx = np.flatnonzero(plain)
    if len(plain_idx):
        rows, syms, amts = _tokenize_plain(uniques[plain_idx])
        unit_rows.append(plain_idx[rows])
        unit_syms.append(syms)
        unit_amts.append(amts)
    for u in np.flatnonzero(~plain):
        try:
            parsed = _parse(uniques[u])
        except _ParseError as exc:
            bad_unique[u] = str(exc)
            continue
        unit_rows.append(np.full(len(parsed), u))
        unit_syms.append(np.asarray(list(parsed), dtype=object))
        unit_amts.append(np.fromiter(parsed.values(), np.float64, len(parsed)))
    mapping_rows = list(mappings)
    for k, i in enumerate(mapping_rows):
        m = mappings[i]
        unit_rows.append(np.full(len(m), n_unique + k))
        unit_syms.append(np.asarray(list(m), dtype=object))
        unit_amts.append(np.asarray(list(m.values()), dtype=np.float64))

    n_units = n_unique + len(mapping_rows)
    if unit_rows:
        rows, syms, amts = np.concatenate(unit_rows), np.concatenate(unit_syms), np.concatenate(unit_amts)
    else:
        rows, syms, amts = np.zeros(0, int), np.zeros(0, object), np.zeros(0)
    sym_code, distinct = pd.factorize(syms)
    col_of_distinct = np.array([column_of.get(s, -1) for s in distinct], dtype=np.intp)
    cols = col_of_distinct[sym_code] if len(syms) else np.zeros(0, np.intp)
    unit_problem = {}
    for j in np.flatnonzero(col_of_distinct < 0):
        s = distinct[j]
        known = s in ATOMIC_NUMBER
        reason = f"element {str(s)!r} is not among the transformer's elements" if known else f"unknown element symbol {str(s)!r}"
        for u in np.unique(rows[sym_code == j]):
            unit_problem.setdefault(u, reason)
    bad_amount = ~np.isfinite(amts) | (amts < 0)
    for u in np.unique(rows[bad_amount]):
        unit_problem.setdefault(u, "amounts must be finite and non-negative")
    ok = cols >= 0
    rows, cols, amts = rows[ok], cols[ok], amts[ok]
    totals = np.bincount(rows, weights=amts, minlength=n_units)
    for u in np.flatnonzero(~(totals > 0)):
        unit_problem.setdefault(u, "total amount is not positive")
    unit_problem.update(bad_unique)

    if unit_problem:
        bad_rows = np.zeros(n_units, bool)
        bad_rows[list(unit_problem)] = True
        for pos in np.flatnonzero(bad_rows[codes]):
            i = str_rows[pos]
            problems.append((i, label(i), values[i], unit_problem[codes[pos]]))
        for k, i in enumerate(mapping_rows):
            if n_unique + k in unit_problem:
                problems.append((i, label(i), values[i], unit_problem[n_unique + k]))
    if problems:
        problems.sort(key=lambda p: p[0])
        raise FormulaError(problems)

    # Scatter the already-normalised fractions: cheaper than normalising a
    # dense matrix. Plain assignment keeps only the last of repeated
    # elements (FeOFe); those rows no longer sum to 1 and are redone with
    # the slower, accumulating add.at.
    fractions = amts / totals[rows]
    units = np.zeros((n_units, n_cols))
    units[rows, cols] = fractions
    short = np.abs(units.sum(axis=1) - 1.0) > 1e-9
    if short.any():
        redo = short[rows]
        units[short] = 0.0
        np.add.at(units, (rows[redo], cols[redo]), fractions[redo])
    if n_units == n and np.array_equal(codes, np.arange(n)):
        return units  # all distinct strings in order: skip a copy of the result
    out = np.empty((n, n_cols))
    out[str_rows] = units[codes]
    if mapping_rows:
        out[mapping_rows] = units[n_unique:]
    return out
