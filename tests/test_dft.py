"""The cyclic code's math on its own: encoding matrix, syndromes, locators, recovery."""

from __future__ import annotations

import pytest
import torch

from sim.codes.dft import (
    CDTYPE,
    blame,
    dft,
    encoding_matrix,
    error_locator,
    holds,
    locate,
    locator_values,
    modified_syndromes,
    poly_from_roots,
    recovery_weights,
    syndromes,
    trusted_again,
    unit_roots,
)


@pytest.mark.parametrize(("n", "s"), [(3, 1), (5, 2), (7, 0), (15, 2), (30, 7), (45, 2), (45, 4)])
def test_encoding_matrix_has_the_promised_shape_and_sum(n: int, s: int) -> None:
    w = encoding_matrix(n, s)
    support = holds(n, s)
    assert support.sum(1).tolist() == [2 * s + 1] * n  # every worker holds 2s+1 parts
    assert support[0].nonzero().flatten().tolist() == list(range(2 * s + 1))
    assert torch.all(w[~support] == 0)  # exactly zero off the support
    c1 = dft(n)[:, : n - 2 * s]
    if s:  # every row is a codeword: zero syndromes
        assert syndromes(w, s).abs().max() <= 1e-10 * w.abs().max()
    g = torch.randn(n, 7, dtype=torch.float64)
    x = torch.linalg.lstsq(c1, w @ g.to(CDTYPE)).solution
    assert torch.allclose(x[0].real, g.sum(0), rtol=0, atol=1e-9 * float(g.abs().sum()))


def test_dft_columns_are_orthonormal_and_c2_annihilates_c1() -> None:
    c = dft(12)
    assert torch.allclose(c.conj().T @ c, torch.eye(12, dtype=CDTYPE), atol=1e-14)
    assert (c[:, 8:].conj().T @ c[:, :8]).abs().max() < 1e-14


def test_error_locator_has_roots_exactly_at_the_errors() -> None:
    n, s = 15, 3
    x = unit_roots(n)
    y = dft(n)[:, : n - 2 * s] @ torch.randn(n - 2 * s, dtype=CDTYPE)
    y[[2, 9, 10]] += torch.tensor([5.0, -3.0j, 1.0 + 1.0j], dtype=CDTYPE)
    t_vec = modified_syndromes(syndromes(y, s), poly_from_roots(x[:0]))
    lam = locator_values(error_locator(t_vec, 3), x)
    assert torch.argsort(lam)[:3].sort().values.tolist() == [2, 9, 10]
    assert lam[[2, 9, 10]].max() < 1e-9
    assert lam[[0, 1, 3]].min() > 1e-3


def test_erasure_locator_cancels_the_missing_rows() -> None:
    n, s = 11, 2
    x = unit_roots(n)
    y = dft(n)[:, : n - 2 * s] @ torch.randn(n - 2 * s, dtype=CDTYPE)
    y[[1, 6]] = 0  # two rows never arrived
    gamma = poly_from_roots(x[[1, 6]])
    assert torch.allclose(gamma, torch.tensor([x[1] * x[6], -(x[1] + x[6]), 1], dtype=CDTYPE))
    assert modified_syndromes(syndromes(y, s), gamma).abs().max() < 1e-12


def test_check_numbers_two_adversaries_adding_noise_are_located_exactly() -> None:
    """The cyclic code's check numbers: n=15, s=2, two adversaries adding 100·N(0,1) ->
    both located, relative error ~1e-14."""
    n, s, d = 15, 2, 1000
    gen = torch.Generator().manual_seed(1)
    g = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y_full = encoding_matrix(n, s) @ g.to(CDTYPE)
    y_full[[4, 11]] += 100 * torch.randn(2, d, generator=gen, dtype=torch.float64)
    f = torch.randn(d, generator=gen, dtype=torch.float64)
    found = locate(y_full @ f.to(CDTYPE), torch.ones(n, dtype=torch.bool), s, 1e-10)
    assert found is not None and found.errors == [4, 11]
    total = (recovery_weights(found.honest, n, s) @ y_full[found.honest]).real
    rel = torch.linalg.vector_norm(total - g.sum(0)) / torch.linalg.vector_norm(g.sum(0))
    assert rel < 1e-13


def test_random_errors_beyond_the_bound_are_not_explained() -> None:
    n, s = 15, 2
    y = dft(n)[:, : n - 2 * s] @ torch.randn(n - 2 * s, dtype=CDTYPE)
    y[[0, 5, 7]] += torch.randn(3, dtype=CDTYPE)
    assert locate(y, torch.ones(n, dtype=torch.bool), s, 1e-10) is None


def test_too_many_erasures_cannot_be_decoded() -> None:
    n, s = 9, 1
    present = torch.ones(n, dtype=torch.bool)
    present[[0, 1, 2]] = False
    assert locate(torch.zeros(n, dtype=CDTYPE), present, s, 1e-10) is None


def test_recovery_weights_invert_the_code_on_any_sufficient_rows() -> None:
    n, s = 10, 3
    x = torch.randn(n - 2 * s, dtype=CDTYPE)
    y = dft(n)[:, : n - 2 * s] @ x
    for rows in ([0, 1, 2, 3], [2, 5, 7, 9], list(range(n))):
        assert torch.allclose(recovery_weights(rows, n, s) @ y[rows], x[0], atol=1e-12)


def test_location_says_how_clearly_each_blamed_row_is_wrong() -> None:
    n, s = 15, 2
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(n - 2 * s, dtype=torch.float64, generator=gen).to(CDTYPE)
    y = dft(n)[:, : n - 2 * s] @ x  # a codeword
    present = torch.ones(n, dtype=torch.bool)
    clean = locate(y, present, s, 1e-10)
    assert clean is not None and clean.errors == [] and blame(y, clean, s) == float("inf")
    y[3] += 1e-3 * y.abs().max()  # trusted again, row 3 misses the codeword by ~1e-4
    found = locate(y, present, s, 1e-10)
    assert found is not None and found.errors == [3]
    assert 1e-6 < blame(y, found, s) < 1e-2


def test_a_row_named_wrong_that_fits_the_codeword_is_trusted_again() -> None:
    """A locator's spurious root may name an honest row with the liar: the honest row
    fits the codeword of the others, so it is not blamed."""
    n, s = 11, 2
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n - 2 * s, generator=gen, dtype=torch.float64).to(CDTYPE)
    y = dft(n)[:, : n - 2 * s] @ x  # a codeword
    y[3] += 5.0  # one lie
    honest = [i for i in range(n) if i not in (3, 8)]
    found = trusted_again(y, honest, [3, 8], s, tolerance=1e-10)
    assert found.errors == [3] and found.honest == [i for i in range(n) if i != 3]
