"""The formula grammar and the element table.

Plain formulas such as ``Al1Sm1Tm1`` or ``Li0.5CoO2`` are tokenized by one
regular-expression pass over many of them at once (:func:`tokenize_plain`);
formulas with brackets or hydrate separators go through a recursive parser
(:func:`parse_or_reason`) whose nesting depth is bounded. Counts are ASCII
decimals, optionally in scientific notation (``Fe1e-3Ni``); other Unicode
digits are rejected, not read as numbers.
"""

import math
import re

import numpy as np
import pandas as pd

__all__ = ["ATOMIC_NUMBER", "DEFAULT_ELEMENTS", "MAX_DEPTH", "PLAIN_FORMULA", "SYMBOLS", "FormulaError",
           "chemical_system", "element_columns", "parse_formula", "parse_or_reason", "tokenize_plain"]

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


def element_columns(elements=None):
    """The feature columns an ``elements`` parameter describes: its symbols, checked, by atomic number.

    Parameters
    ----------
    elements : sequence of str or None, default=None
        ``None`` means :data:`DEFAULT_ELEMENTS`.

    Returns
    -------
    ndarray of str (object dtype)

    Raises
    ------
    TypeError
        If ``elements`` is a string.
    ValueError
        For an unknown symbol, a repeated one or no symbol at all.
    """
    if isinstance(elements, str):
        raise TypeError("elements must be a sequence of element symbols, not a string")
    elements = DEFAULT_ELEMENTS if elements is None else list(elements)
    unknown = [s for s in elements if s not in ATOMIC_NUMBER]
    if unknown:
        raise ValueError(f"unknown element symbol(s) in elements: {unknown}")
    if len(set(elements)) != len(elements):
        raise ValueError("elements contains duplicates")
    if not elements:
        raise ValueError("elements must not be empty")
    return np.array(sorted(elements, key=ATOMIC_NUMBER.__getitem__), dtype=object)

# Decimal counts, optionally in scientific notation with a lowercase "e"
# (1e-3), as pymatgen reads them; "E" would be ambiguous with Er, Es, Eu.
_NUMBER = r"(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?)"
_TOKEN = rf"([A-Z][a-z]?)({_NUMBER}?)"
# A whole batch of plain formulas, one per line.
PLAIN_FORMULA = re.compile(rf"(?:[A-Z][a-z]?{_NUMBER}?)+")
_FLAT_TOKEN = re.compile(rf"[A-Z][a-z]?|{_NUMBER}|\n")
_NUMBER_AT = re.compile(_NUMBER)
_HYDRATE_SEPARATORS = "·•*"
_CLOSING = {"(": ")", "[": "]"}
# How many bad rows an error message lists before it only counts the rest.
_MAX_LISTED = 5
#: Deepest nesting of brackets a formula may have.
MAX_DEPTH = 50


class FormulaError(ValueError):
    """One or more formulas could not be parsed.

    Attributes
    ----------
    problems : list of (row, label, value, reason)
        Every bad row, in input order.
    """

    def __init__(self, problems, what="invalid formula"):
        if isinstance(problems, str):
            # Re-raised with a new message (matminer's featurize_wrapper does this).
            self.problems = []
            super().__init__(problems)
            return
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


def chemical_system(formula):
    """The chemical system of a formula: its elements in alphabetical order, joined by ``"-"``.

    ``"Al2O3"`` and ``"AlO"`` are both ``"Al-O"``: the unit that grouped
    cross-validation keeps in one fold and a hull is built over.

    Parameters
    ----------
    formula : str

    Returns
    -------
    str

    Raises
    ------
    ValueError
        As :func:`parse_formula`.
    """
    return "-".join(sorted(parse_formula(formula)))


def parse_or_reason(text):
    """``(amounts, None)`` for a formula of the grammar, ``(None, reason)`` otherwise.

    Parameters
    ----------
    text : str
        Stripped of surrounding white space.

    Returns
    -------
    amounts : dict or None
    reason : str or None
    """
    try:
        return _parse(text), None
    except _ParseError as exc:
        return None, str(exc)


def _parse(text):
    if not text:
        raise _ParseError("empty formula")
    if PLAIN_FORMULA.fullmatch(text):
        amounts = {}
        for sym, count in re.findall(_TOKEN, text):
            _check_symbol(sym)
            amounts[sym] = amounts.get(sym, 0.0) + (float(count) if count else 1.0)
    else:
        amounts = _parse_general(text)
    if not all(math.isfinite(v) for v in amounts.values()):
        raise _ParseError("a count is too large for a float (amounts must be finite)")
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
        part, pos = _parse_group(text, pos, closing=None, depth=0)
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


def _parse_group(text, pos, closing, depth):
    if depth > MAX_DEPTH:
        raise _ParseError(f"brackets nested more than {MAX_DEPTH} deep")
    amounts = {}
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch in _CLOSING:
            inner, pos = _parse_group(text, pos + 1, closing=_CLOSING[ch], depth=depth + 1)
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


def tokenize_plain(formulas):
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
