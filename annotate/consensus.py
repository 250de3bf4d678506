"""Per-item consensus from several annotators' judgements (pure numpy, no Django).

- `pairwise_majority`: the majority outcome of each pairwise item, ties abstaining.
- `bradley_terry`: strengths of responses from who-beat-whom comparisons, the maximum
  likelihood (Newton's method), for all items of a project at once.
- `dawid_skene`: labels weighted by each annotator's estimated reliability (Dawid &
  Skene 1979), by EM.
Outcomes of a pairwise judgement follow `agreement.judgement_values`: 1 the first response
(canonical position 0) is better, 0 tie, -1 the second is better.
"""
from typing import NamedTuple

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import cg
from scipy.special import expit


class MajorityVote(NamedTuple):
    items: np.ndarray  # distinct item ids, sorted
    outcome: np.ndarray  # 1 first better, -1 second better, 0 tie or no majority
    margin: np.ndarray  # (votes for first - votes for second) / votes, in [-1, 1]
    agreement: np.ndarray  # share of votes that equal the outcome
    n_votes: np.ndarray


class DawidSkene(NamedTuple):
    items: np.ndarray  # distinct item ids, sorted
    classes: np.ndarray  # distinct labels, sorted; columns of `posterior`
    posterior: np.ndarray  # items x classes, each row sums to 1
    labels: np.ndarray  # the most probable class of each item
    annotators: np.ndarray  # distinct annotator ids, sorted
    confusion: np.ndarray  # annotators x true class x given label, rows sum to 1
    class_prior: np.ndarray
    iterations: int


def pairwise_majority(votes, items=None) -> MajorityVote:
    """Majority of pairwise outcomes per item (`items`: the item of each vote; default one item)."""
    votes = np.asarray(votes)
    if votes.ndim != 1 or not len(votes) or not np.isin(votes, (-1, 0, 1)).all():
        raise ValueError("votes must be a non-empty sequence of outcomes 1, 0 or -1")
    items = np.zeros(len(votes), dtype=np.int64) if items is None else np.asarray(items)
    if len(items) != len(votes):
        raise ValueError(f"{len(votes)} votes but {len(items)} item ids")
    ids, item_index = np.unique(items, return_inverse=True)
    n_votes = np.bincount(item_index, minlength=len(ids))
    first = np.bincount(item_index, weights=votes == 1, minlength=len(ids))
    second = np.bincount(item_index, weights=votes == -1, minlength=len(ids))
    outcome = np.sign(first - second).astype(np.int64)
    agreeing = np.bincount(item_index, weights=votes == outcome[item_index], minlength=len(ids))
    return MajorityVote(ids, outcome, (first - second) / n_votes, agreeing / n_votes, n_votes)


def ranking_comparisons(ranks, responses) -> tuple[np.ndarray, np.ndarray]:
    """Who-beat-whom rows from rankings, for `bradley_terry`.

    `ranks` and `responses` are judgements x positions: the rank given (1 = best, nan
    where the item has fewer responses) and the response's index among all responses.
    A tie gives both orientations at weight 1/2. Returns (comparisons (m x 2 of winner,
    loser), weights).
    """
    ranks = np.asarray(ranks, dtype=np.float64)
    responses = np.asarray(responses)
    if ranks.shape != responses.shape or ranks.ndim != 2:
        raise ValueError("ranks and responses must be judgements x positions matrices of the same shape")
    first, second = np.triu_indices(ranks.shape[1], k=1)
    rank_a, rank_b = ranks[:, first].ravel(), ranks[:, second].ravel()
    resp_a, resp_b = responses[:, first].ravel(), responses[:, second].ravel()
    present = ~(np.isnan(rank_a) | np.isnan(rank_b))
    rank_a, rank_b, resp_a, resp_b = rank_a[present], rank_b[present], resp_a[present], resp_b[present]
    a_wins = rank_a < rank_b
    tie = rank_a == rank_b
    # A tie is (b beats a) / 2 from the first rows plus (a beats b) / 2 appended.
    winners = np.concatenate([np.where(a_wins, resp_a, resp_b), resp_a[tie]])
    losers = np.concatenate([np.where(a_wins, resp_b, resp_a), resp_b[tie]])
    weights = np.concatenate([np.where(tie, 0.5, 1.0), np.full(tie.sum(), 0.5)])
    return np.stack([winners, losers], axis=1), weights


def bradley_terry(comparisons, n_items, *, weights=None, prior=0.5, tol=1e-9, max_iter=100) -> np.ndarray:
    """Bradley-Terry log-strengths s: P(i beats j) = 1 / (1 + exp(s_j - s_i)).

    `comparisons` is m x 2 rows of (winner, loser) indices in 0..n_items-1, `weights`
    their counts (ties: two half rows, see `ranking_comparisons`). `prior` adds, for every
    item, that many wins and as many losses against a virtual response of score 0: it
    keeps every score finite when a response always wins or always loses (usual with a
    few annotators per item) and fixes each item's scale, so unconnected items (the
    responses of different prompts) are fitted in one call. prior=0 is the plain maximum
    likelihood, which exists only when the comparison graph is strongly connected; its
    scores are centred to mean 0.

    The log-likelihood is concave, so it is maximised by Newton's method, each step solved
    per connected component (`_NewtonSolver`). Hunter's (2004) MM iteration reaches the
    same maximum but needs hundreds of sweeps when responses win unanimously; Newton
    needs about ten.
    """
    comparisons = np.asarray(comparisons, dtype=np.int64).reshape(-1, 2)
    weights = np.ones(len(comparisons)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(weights) != len(comparisons) or (weights < 0).any():
        raise ValueError("weights must be one non-negative number per comparison")
    if len(comparisons) and (comparisons.min() < 0 or comparisons.max() >= n_items):
        raise ValueError(f"comparison indices must lie in 0..{n_items - 1}")
    if prior < 0:
        raise ValueError(f"prior must be >= 0, got {prior}")
    winners, losers = comparisons[:, 0], comparisons[:, 1]
    wins = np.bincount(winners, weights=weights, minlength=n_items)
    played = wins + np.bincount(losers, weights=weights, minlength=n_items)
    if prior == 0 and ((wins == 0) | (wins == played)).any():
        raise ValueError("with prior=0 every item needs at least one win and one loss; use a prior > 0")
    first, second, games, first_wins = _pair_totals(winners, losers, weights, n_items)
    solver = _NewtonSolver(first, second, n_items, prior)
    scores = np.zeros(n_items)
    for _ in range(max_iter):
        p_first = expit(scores[first] - scores[second])
        p_virtual = expit(scores)
        surprise = first_wins - games * p_first
        gradient = np.bincount(first, surprise, n_items) - np.bincount(second, surprise, n_items)
        gradient += prior * (1 - 2 * p_virtual)
        curvature = games * p_first * (1 - p_first)
        degree = np.bincount(first, curvature, n_items) + np.bincount(second, curvature, n_items)
        degree += 2 * prior * p_virtual * (1 - p_virtual)
        step = solver.solve(curvature, degree, gradient)
        # Far from the maximum a full Newton step can overshoot; a log-odds change of
        # more than 2 per step is never needed to get there.
        step = np.clip(step, -2, 2)
        if prior == 0:
            step -= step.mean()  # the plain likelihood is blind to a common shift
        scores += step
        if np.abs(step).max() < tol:
            return scores
    raise ValueError(f"Bradley-Terry did not converge in {max_iter} Newton steps")


def _pair_totals(winners, losers, weights, n_items):
    """Comparisons summed per unordered pair: (first, second, games, wins of first)."""
    first, second = np.minimum(winners, losers), np.maximum(winners, losers)
    pairs, pair_of = np.unique(first * n_items + second, return_inverse=True)
    games = np.bincount(pair_of, weights=weights, minlength=len(pairs))
    first_wins = np.bincount(pair_of, weights=weights * (winners == first), minlength=len(pairs))
    return pairs // n_items, pairs % n_items, games, first_wins


class _NewtonSolver:
    """Solves (negative Hessian) step = gradient, one connected component at a time.

    The negative Hessian is a weighted graph Laplacian plus a diagonal, with one block per
    connected component (per prompt, when the items are a project's responses). Blocks of
    up to MAX_DENSE_BLOCK items are solved as batches of small dense systems, one batch per
    block size; larger components by conjugate gradients. With prior=0 a block is singular
    along a common shift, so it gets ones / size added: since a component's gradient sums
    to zero, that gives the Newton step that also sums to zero.
    """

    MAX_DENSE_BLOCK = 64

    def __init__(self, first, second, n_items, prior):
        graph = sparse.coo_matrix((np.ones(len(first)), (first, second)), shape=(n_items, n_items))
        n_components, component = connected_components(graph, directed=False)
        sizes = np.bincount(component, minlength=n_components)
        order = np.argsort(component, kind="stable")
        local = np.empty(n_items, dtype=np.int64)
        local[order] = np.arange(n_items) - (np.cumsum(sizes) - sizes)[component[order]]
        self.first, self.second, self.prior = first, second, prior
        self.batches = []
        for size in np.unique(sizes[sizes <= self.MAX_DENSE_BLOCK]):
            block = np.full(n_components, -1)
            members = sizes == size
            block[members] = np.arange(members.sum())
            items = np.flatnonzero(sizes[component] == size)
            pairs = np.flatnonzero(sizes[component[first]] == size)
            pair_cells = (block[component[first[pairs]]] * size + local[first[pairs]]) * size + local[second[pairs]]
            mirrored = (block[component[first[pairs]]] * size + local[second[pairs]]) * size + local[first[pairs]]
            self.batches.append({
                "size": int(size), "count": int(members.sum()), "items": items, "pairs": pairs,
                "item_block": block[component[items]], "item_local": local[items],
                "diagonal_cells": block[component[items]] * size * size + local[items] * (size + 1),
                "pair_cells": np.concatenate([pair_cells, mirrored]),
            })
        self.large_items = np.flatnonzero(sizes[component] > self.MAX_DENSE_BLOCK)
        self.large_pairs = np.flatnonzero(sizes[component[first]] > self.MAX_DENSE_BLOCK)

    def solve(self, curvature, degree, gradient) -> np.ndarray:
        step = np.zeros(len(gradient))
        for batch in self.batches:
            size, count, items = batch["size"], batch["count"], batch["items"]
            off_diagonal = -np.tile(curvature[batch["pairs"]], 2)
            hessian = np.bincount(
                np.concatenate([batch["diagonal_cells"], batch["pair_cells"]]),
                weights=np.concatenate([degree[items], off_diagonal]),
                minlength=count * size * size,
            ).reshape(count, size, size)
            if self.prior == 0:
                hessian += 1 / size
            right = np.zeros((count, size))
            right[batch["item_block"], batch["item_local"]] = gradient[items]
            solution = np.linalg.solve(hessian, right[..., np.newaxis])[..., 0]
            step[items] = solution[batch["item_block"], batch["item_local"]]
        if len(self.large_items):
            step[self.large_items] = self._solve_large(curvature, degree, gradient)
        return step

    def _solve_large(self, curvature, degree, gradient) -> np.ndarray:
        items, pairs = self.large_items, self.large_pairs
        index = np.full(len(gradient), -1)
        index[items] = np.arange(len(items))
        first, second = index[self.first[pairs]], index[self.second[pairs]]
        n = len(items)
        matrix = sparse.diags(degree[items]) - sparse.coo_matrix(
            (np.concatenate([curvature[pairs]] * 2), (np.concatenate([first, second]), np.concatenate([second, first]))),
            shape=(n, n),
        )
        preconditioner = sparse.diags(1 / np.where(degree[items] > 0, degree[items], 1))
        solution, _ = cg(matrix.tocsr(), gradient[items], rtol=1e-10, atol=0, maxiter=10 * n, M=preconditioner)
        return solution


def dawid_skene(items, annotators, labels, *, smoothing=0.01, tol=1e-6, max_iter=200) -> DawidSkene:
    """Reliability-weighted consensus labels by the Dawid-Skene (1979) EM.

    Each annotator has a confusion matrix P(label | true class); the E step gives every
    item a posterior over classes from its labels, the M step re-estimates the matrices
    and class prior from the posteriors. Starts from the per-item vote shares (majority),
    so with equally good annotators it returns the majority. Stops when the log-likelihood
    gains less than `tol` (relative). `smoothing` is a pseudo-count added to every
    confusion cell so that one unseen label cannot veto a class.

    Votes are counted per item and vote type (annotator, label), so both steps are one
    sparse product: items x types counts against types x classes.
    """
    items, annotators, labels = np.asarray(items), np.asarray(annotators), np.asarray(labels)
    if not len(items) == len(annotators) == len(labels) or not len(labels):
        raise ValueError("items, annotators and labels must be equally long and non-empty")
    item_ids, item_index = np.unique(items, return_inverse=True)
    annotator_ids, annotator_index = np.unique(annotators, return_inverse=True)
    classes, label_index = np.unique(labels, return_inverse=True)
    n_annotators, n_classes = len(annotator_ids), len(classes)
    n_types = n_annotators * n_classes
    votes = sparse.csr_matrix(
        (np.ones(len(labels)), (item_index, annotator_index * n_classes + label_index)), shape=(len(item_ids), n_types)
    )
    label_of_type = np.tile(np.eye(n_classes), (n_annotators, 1))
    posterior = votes @ label_of_type
    posterior /= posterior.sum(axis=1, keepdims=True)
    previous = -np.inf
    for iteration in range(1, max_iter + 1):
        class_prior = posterior.mean(axis=0)
        # (annotator, label) x true class -> annotator x true class x label
        mass = (votes.T @ posterior).reshape(n_annotators, n_classes, n_classes).transpose(0, 2, 1)
        confusion = mass + smoothing
        confusion /= confusion.sum(axis=2, keepdims=True)
        log_by_type = np.log(confusion).transpose(0, 2, 1).reshape(n_types, n_classes)
        log_joint = np.log(np.maximum(class_prior, 1e-300)) + votes @ log_by_type
        peak = log_joint.max(axis=1, keepdims=True)
        unnormalised = np.exp(log_joint - peak)
        evidence = unnormalised.sum(axis=1, keepdims=True)
        posterior = unnormalised / evidence
        total = (peak + np.log(evidence)).sum()
        if total - previous <= tol * abs(total):
            break
        previous = total
    return DawidSkene(
        item_ids, classes, posterior, classes[posterior.argmax(axis=1)], annotator_ids, confusion, class_prior, iteration
    )
