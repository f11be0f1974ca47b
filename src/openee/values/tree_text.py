"""Decision trees in the text format R's rpart prints (and Earth Engine reads):

    1) root 300 200 0 (0.33 0.33 0.33)
      2) B4< 812.5 100 0 0 *
      3) B4>=812.5 200 100 1
        6) B8< 2431 100 0 1 *
        7) B8>=2431 100 0 2 *

Each line is `node) split n loss yval [(probabilities)] [*]`; node k's children are 2k and 2k+1;
`*` marks a leaf. A split is `name<value`, `name<=value`, `name>value` or `name>=value`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from openee.errors import InvalidArgumentError

_LINE = re.compile(
    r"^\s*(\d+)\)\s+(root|[^\s<>=]+\s*(?:<=|>=|<|>)\s*[-+0-9.eE]+)\s+"
    r"([-+0-9.eE]+)\s+([-+0-9.eE]+)\s+([-+0-9.eE]+)(?:\s+\([^)]*\))?\s*(\*)?\s*$"
)
_SPLIT = re.compile(r"^([^\s<>=]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)$")


@dataclass(frozen=True)
class TextTree:
    """Nodes by number: (input name or None for the root, operator, threshold, yval, leaf)."""

    nodes: tuple[tuple[int, str | None, str, float, float, bool], ...]

    @classmethod
    def parse(cls, text: str) -> TextTree:
        nodes: list[tuple[int, str | None, str, float, float, bool]] = []
        for line in text.splitlines():
            if not re.match(r"^\s*\d+\)", line):
                continue  # headers: "n= 300", "node), split, ...", "* denotes terminal node"
            match = _LINE.match(line)
            if match is None:
                raise InvalidArgumentError(f"Cannot parse the tree line '{line.strip()}'.")
            number, split, _, _, yval, star = match.groups()
            if split == "root":
                nodes.append((int(number), None, "", 0.0, float(yval), bool(star)))
                continue
            parts = _SPLIT.match(split.replace(" ", ""))
            if parts is None:
                raise InvalidArgumentError(f"Cannot parse the split '{split}'.")
            name, op, threshold = parts.groups()
            nodes.append((int(number), name, op, float(threshold), float(yval), bool(star)))
        if not nodes or nodes[0][0] != 1:
            raise InvalidArgumentError("The tree has no root node '1)'.")
        numbers = {n[0] for n in nodes}
        for number, *_, leaf in nodes:
            if not leaf and not {2 * number, 2 * number + 1} <= numbers:
                raise InvalidArgumentError(f"Node {number} is not a leaf but lacks children.")
        return cls(tuple(nodes))

    def inputs(self) -> list[str]:
        """The split variables, in order of first appearance."""
        seen: list[str] = []
        for _, name, *_ in self.nodes:
            if name is not None and name not in seen:
                seen.append(name)
        return seen

    def predict(self, x: np.ndarray, inputs: list[str]) -> np.ndarray:
        """The leaf yval reached by each row of `x` (columns in `inputs` order)."""
        by_number = {n[0]: n for n in self.nodes}
        column = {name: i for i, name in enumerate(inputs)}
        out = np.empty(len(x))
        at = np.ones(len(x), dtype=np.int64)
        active = np.ones(len(x), dtype=bool)
        while active.any():
            for number in np.unique(at[active]):
                rows = active & (at == number)
                node = by_number[int(number)]
                if node[5]:
                    out[rows] = node[4]
                    active &= ~rows
                    continue
                left = by_number[2 * int(number)]
                v = x[rows, column[left[1]]] if left[1] is not None else np.zeros(rows.sum())
                goes_left = _holds(v, left[2], left[3])
                at[np.flatnonzero(rows)[goes_left]] = 2 * number
                at[np.flatnonzero(rows)[~goes_left]] = 2 * number + 1
        return out


def _holds(v: np.ndarray, op: str, threshold: float) -> np.ndarray:
    if op == "<":
        return v < threshold
    if op == "<=":
        return v <= threshold
    if op == ">":
        return v > threshold
    return v >= threshold


@dataclass(frozen=True)
class TreeEnsembleModel:
    """Trees read from text: one tree's leaf value, or the ensemble's majority vote (smaller
    class on a tie) when classifying and mean when regressing."""

    trees: tuple[TextTree, ...]
    inputs: tuple[str, ...]

    @property
    def classes(self) -> np.ndarray | None:
        leaves = np.array([n[4] for t in self.trees for n in t.nodes if n[5]])
        return np.unique(leaves) if np.all(leaves == np.round(leaves)) else None

    def predict(self, x: np.ndarray, regression: bool) -> np.ndarray:
        votes = np.stack([t.predict(x, list(self.inputs)) for t in self.trees])
        if regression or len(self.trees) == 1:
            return np.asarray(votes.mean(axis=0))
        out = np.empty(len(x))
        for i in range(len(x)):
            values, counts = np.unique(votes[:, i], return_counts=True)
            out[i] = values[np.argmax(counts)]  # np.unique sorts: the smaller value wins ties
        return out


def sklearn_tree_text(tree: object, inputs: tuple[str, ...], classes: np.ndarray | None) -> str:
    """A fitted scikit-learn decision tree in the rpart text format (left: `name<=t`, right:
    `name>t`); `classes` are the class values of a classifier, None for a regressor."""
    t = tree.tree_  # type: ignore[attr-defined]
    lines = [f"n= {int(t.n_node_samples[0])}", "", "node), split, n, loss, yval", ""]

    def describe(node: int) -> tuple[int, float, float]:
        n = int(t.n_node_samples[node])
        if classes is None:
            return n, float(t.impurity[node]) * n, float(t.value[node][0][0])
        fractions = t.value[node][0]
        best = int(np.argmax(fractions))
        correct = fractions[best] / fractions.sum() * n
        return n, float(round(n - correct)), float(classes[best])

    def walk(node: int, number: int, split: str, depth: int) -> None:
        n, loss, yval = describe(node)
        leaf = t.children_left[node] == -1
        lines.append(f"{'  ' * depth}{number}) {split} {n} {loss!r} {yval!r}{' *' if leaf else ''}")
        if not leaf:
            name, threshold = inputs[t.feature[node]], float(t.threshold[node])
            walk(int(t.children_left[node]), 2 * number, f"{name}<={threshold!r}", depth + 1)
            walk(int(t.children_right[node]), 2 * number + 1, f"{name}>{threshold!r}", depth + 1)

    walk(0, 1, "root", 0)
    return "\n".join(lines)
