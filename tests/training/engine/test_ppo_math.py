import math

import pytest
import torch

from training.engine import ppo_math

MASK = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])


def test_masked_mean_and_variance_ignore_padding():
    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 100.0]])
    assert ppo_math.masked_mean(values, MASK).item() == pytest.approx(3.0)
    assert ppo_math.masked_var(values, MASK).item() == pytest.approx(2.5)  # var of 1..5, unbiased


def test_whiten_gives_zero_mean_unit_variance_or_keeps_the_mean():
    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 100.0]])
    whitened = ppo_math.whiten(values, MASK)
    assert ppo_math.masked_mean(whitened, MASK).item() == pytest.approx(0.0, abs=1e-6)
    assert ppo_math.masked_var(whitened, MASK).item() == pytest.approx(1.0, abs=1e-5)
    assert whitened[1, 2].item() == 0.0
    kept = ppo_math.whiten(values, MASK, shift_mean=False)
    assert ppo_math.masked_mean(kept, MASK).item() == pytest.approx(3.0)


def test_token_rewards_put_the_score_on_the_last_real_token_and_penalise_kl():
    logprobs = torch.tensor([[-1.0, -1.0, -1.0], [-1.0, -1.0, -9.0]])
    ref_logprobs = torch.tensor([[-2.0, -1.0, -1.0], [-1.0, -3.0, -9.0]])
    rewards, kl = ppo_math.token_rewards(torch.tensor([5.0, 7.0]), logprobs, ref_logprobs, MASK, kl_coef=0.5)
    assert kl.tolist() == [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    assert rewards.tolist() == [[-0.5, 0.0, 5.0], [0.0, -1.0 + 7.0, 0.0]]


def test_gae_matches_the_recursion_by_hand():
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    values = torch.tensor([[0.5, 0.2, 0.4], [0.1, 0.3, 9.0]])
    gamma, lam = 0.9, 0.8
    advantages, returns = ppo_math.gae(rewards, values, MASK, gamma=gamma, lam=lam)
    # row 0: deltas, then A_t = delta_t + gamma * lam * A_{t+1}; the value after the end is 0
    d2 = 1.0 - 0.4
    d1 = 0.0 + gamma * 0.4 - 0.2
    d0 = 0.0 + gamma * 0.2 - 0.5
    a2, a1 = d2, d1 + gamma * lam * d2
    a0 = d0 + gamma * lam * a1
    assert advantages[0].tolist() == pytest.approx([a0, a1, a2])
    # row 1 ends after two tokens: the padded value 9.0 must not leak in
    e1 = 2.0 - 0.3
    e0 = 0.0 + gamma * 0.3 - 0.1 + gamma * lam * e1
    assert advantages[1].tolist() == pytest.approx([e0, e1, 0.0])
    assert torch.allclose(returns, advantages + values * MASK)


def test_policy_loss_clips_the_ratio_in_the_direction_of_the_advantage():
    old = torch.zeros(1, 2)
    new = torch.tensor([[math.log(1.5), math.log(0.5)]])
    advantages = torch.tensor([[1.0, -1.0]])
    loss, clip_fraction = ppo_math.policy_loss(new, old, advantages, torch.ones(1, 2), cliprange=0.2)
    # token 0: ratio 1.5 clipped to 1.2 (gain capped); token 1: ratio 0.5 clipped to 0.8
    assert loss.item() == pytest.approx((-1.2 + 0.8) / 2)
    assert clip_fraction.item() == 1.0
    unclipped, none_clipped = ppo_math.policy_loss(old, old, advantages, torch.ones(1, 2), cliprange=0.2)
    assert unclipped.item() == pytest.approx(0.0) and none_clipped.item() == 0.0


def test_value_loss_takes_the_worse_of_clipped_and_unclipped_error():
    old, returns = torch.zeros(1, 2), torch.tensor([[1.0, 1.0]])
    new = torch.tensor([[1.0, 0.1]])
    loss, clip_fraction = ppo_math.value_loss(new, old, returns, torch.ones(1, 2), cliprange_value=0.2)
    # token 0: new hits the return but its clipped value 0.2 is 0.8 away; token 1: unclipped 0.9 away
    assert loss.item() == pytest.approx(0.5 * (0.8 ** 2 + 0.9 ** 2) / 2)
    assert clip_fraction.item() == 0.5


def test_entropy_of_uniform_and_certain_distributions():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]])
    assert ppo_math.entropy(logits).tolist() == pytest.approx([math.log(4), 0.0], abs=1e-6)


def test_response_mask_keeps_the_first_eos_and_drops_what_follows():
    responses = torch.tensor([[5, 2, 0, 0], [5, 6, 7, 8], [2, 5, 2, 0]])
    assert ppo_math.response_mask(responses, eos_token_id=2).tolist() == [
        [1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]
