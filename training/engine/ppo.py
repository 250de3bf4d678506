"""PPO against a trained reward model: a compact implementation on torch + transformers + peft.

TRL 1.13+ has no PPO and 1.12 does not run on transformers 5 (see README.md), so this file
holds the loop and ppo_math.py the formulas. One base model sits in memory: the policy is
the base with LoRA adapters and the reference is the same model with the adapters disabled
(a frozen copy only when use_lora is off). A linear value head reads the policy's last
hidden state. Each step: sample responses for rollout_batch_size prompts, score them with
the reward model, turn scores and the per-token KL to the reference into rewards, estimate
advantages with GAE, then run ppo_epochs of clipped policy and value updates.
"""

from __future__ import annotations

import copy
import contextlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from accelerate import Accelerator
from peft import get_peft_model
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

from training.engine import ppo_math
from training.engine.checkpoints import TRAINER_STATE, checkpoint_dir, last_checkpoint, save_final
from training.engine.config import PPOConfig
from training.engine.data import Splits
from training.engine.device import agreed_stop, plan_device
from training.engine.hf_training import load_tokenizer, lora_arguments
from training.engine.reporting import Reporter, TrainingResult
from training.engine.tiny import resolve_model_path

STATE_FILE = "ppo_state.pt"


class PolicyWithValueHead(torch.nn.Module):
    def __init__(self, policy):
        super().__init__()
        self.policy = policy
        self.value_head = torch.nn.Linear(policy.config.get_text_config().hidden_size, 1)
        torch.nn.init.zeros_(self.value_head.weight)
        torch.nn.init.zeros_(self.value_head.bias)

    def forward(self, input_ids, attention_mask):
        output = self.policy(input_ids=input_ids, attention_mask=attention_mask,
                             position_ids=_position_ids(attention_mask), output_hidden_states=True)
        values = self.value_head(output.hidden_states[-1].float()).squeeze(-1)
        return output.logits.float(), values


@dataclass
class Rollout:
    sequences: torch.Tensor  # [batch, prompt + response] token ids, prompts left-padded
    attention_mask: torch.Tensor
    prompt_length: int
    mask: torch.Tensor  # [batch, response] 1 for real response tokens
    logprobs: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor


def _position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    # Left padding: positions count real tokens only, as generate() does.
    return (attention_mask.long().cumsum(dim=1) - 1).clamp(min=0)


def _response_logprobs(logits: torch.Tensor, sequences: torch.Tensor, prompt_length: int,
                       temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities of the response tokens and the logits that predicted them."""
    response_logits = logits[:, prompt_length - 1:-1] / temperature
    responses = sequences[:, prompt_length:]
    logprobs = torch.log_softmax(response_logits, dim=-1).gather(-1, responses.unsqueeze(-1)).squeeze(-1)
    return logprobs, response_logits


def _prompt_texts(rows: list[dict], tokenizer) -> list[str]:
    texts = []
    for row in rows:
        prompt = row["prompt"]
        if isinstance(prompt, list):  # conversational: a list of messages
            prompt = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        texts.append(prompt)
    return texts


class PPOTrainer:
    def __init__(self, rows: list[dict], config: PPOConfig, output_dir: Path, reporter: Reporter):
        self.config, self.output_dir, self.reporter = config, output_dir, reporter
        plan = plan_device(config.precision)
        self.accelerator = Accelerator(cpu=plan.device == "cpu")
        torch.manual_seed(config.seed)
        model_path = resolve_model_path(config.base_model)
        # Prompts are left-padded for generation and, when too long, keep their end.
        self.tokenizer = load_tokenizer(model_path, padding_side="left", truncation_side="left")
        self.prompts = _prompt_texts(rows, self.tokenizer)
        policy = AutoModelForCausalLM.from_pretrained(model_path, dtype=plan.dtype)
        if config.use_lora:
            policy = get_peft_model(policy, lora_arguments(config, "CAUSAL_LM"))
            self.reference = None
        else:
            self.reference = copy.deepcopy(policy).requires_grad_(False).eval().to(self.accelerator.device)
        reward_path = resolve_model_path(config.reward_model)
        # Too long a text loses the start of its prompt, never the response being scored.
        self.reward_tokenizer = AutoTokenizer.from_pretrained(reward_path, truncation_side="left")
        self.reward_model = AutoModelForSequenceClassification.from_pretrained(reward_path, dtype=plan.dtype)
        self.reward_model.requires_grad_(False).eval().to(self.accelerator.device)
        model = PolicyWithValueHead(policy)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        # Dropout stays off throughout (as in TRL's PPO): with it, the probability ratio of
        # the first update would not start at 1 and the clipping would bite on noise.
        self.model.eval()
        prompts_per_step = config.rollout_batch_size * self.accelerator.num_processes
        self.total_steps = config.max_steps if config.max_steps > 0 else max(
            1, math.ceil(config.num_train_epochs * len(self.prompts) / prompts_per_step))

    # --- the loop -----------------------------------------------------------------------
    def train(self, *, resume: bool) -> TrainingResult:
        step = self._resume() if resume else 0
        metrics: dict[str, float] = {}
        while step < self.total_steps:
            step += 1
            started = time.perf_counter()
            rollout, sample_metrics, sample_line = self._rollout(self._prompts_for(step))
            metrics = {**sample_metrics, **self._optimise(rollout)}
            metrics["samples_per_second"] = self.config.rollout_batch_size / (time.perf_counter() - started)
            if step % self.config.logging_steps == 0 or step == self.total_steps:
                self._report(step, metrics, sample_line)
                if agreed_stop(self.reporter.should_stop(), self.accelerator.device):
                    self._save_checkpoint(step)
                    self.reporter.text(f"cancelled at step {step}; checkpoint-{step} saved")
                    return TrainingResult("cancelled", step, metrics, None)
            if step % self.config.save_steps == 0:
                self._save_checkpoint(step)
        return TrainingResult("completed", step, metrics, self._save_final())

    def _prompts_for(self, step: int) -> list[str]:
        """The rollout prompts of a step: a fixed function of (seed, step), so resuming replays the stream."""
        size = self.config.rollout_batch_size
        start = ((step - 1) * self.accelerator.num_processes + self.accelerator.process_index) * size
        orders = {}
        chosen = []
        for position in range(start, start + size):
            epoch, index = divmod(position, len(self.prompts))
            if epoch not in orders:
                generator = torch.Generator().manual_seed(self.config.seed + epoch)
                orders[epoch] = torch.randperm(len(self.prompts), generator=generator)
            chosen.append(self.prompts[orders[epoch][index]])
        return chosen

    def _report(self, step: int, metrics: dict[str, float], sample_line: str) -> None:
        reduced = {name: self.accelerator.reduce(torch.tensor(value, device=self.accelerator.device),
                                                 reduction="mean").item() for name, value in metrics.items()}
        if self.accelerator.is_main_process:
            self.reporter.log(step, reduced)
            self.reporter.text(f"step {step} sample: {sample_line}")

    # --- rollout ------------------------------------------------------------------------
    @torch.no_grad()
    def _rollout(self, prompts: list[str]) -> tuple[Rollout, dict[str, float], str]:
        config, device = self.config, self.accelerator.device
        model = self.accelerator.unwrap_model(self.model)
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, truncation=True,
                                 max_length=config.max_length - config.max_new_tokens).to(device)
        prompt_length = encoded["input_ids"].shape[1]
        sequences = model.policy.generate(
            **encoded, do_sample=True, temperature=config.temperature, top_k=0, top_p=1.0,
            max_new_tokens=config.max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id)
        responses = sequences[:, prompt_length:]
        mask = ppo_math.response_mask(responses, self.tokenizer.eos_token_id).to(device)
        attention_mask = torch.cat([encoded["attention_mask"], mask.long()], dim=1)

        logits, values = model(sequences, attention_mask)
        logprobs, _ = _response_logprobs(logits, sequences, prompt_length, config.temperature)
        values = values[:, prompt_length - 1:-1]
        with self._reference_model() as reference:
            ref_logits = reference(input_ids=sequences, attention_mask=attention_mask,
                                   position_ids=_position_ids(attention_mask)).logits.float()
        ref_logprobs, _ = _response_logprobs(ref_logits, sequences, prompt_length, config.temperature)

        completions = self.tokenizer.batch_decode(responses.masked_fill(mask == 0, self.tokenizer.pad_token_id),
                                                  skip_special_tokens=True)
        scores = self._score([prompt + completion for prompt, completion in zip(prompts, completions)])
        rewards, kl = ppo_math.token_rewards(scores, logprobs, ref_logprobs, mask, config.kl_coef)
        if config.whiten_rewards:
            rewards = ppo_math.whiten(rewards, mask, shift_mean=False)
        advantages, returns = ppo_math.gae(rewards, values, mask, gamma=config.gamma, lam=config.lam)
        advantages = ppo_math.whiten(advantages, mask)
        rollout = Rollout(sequences, attention_mask, prompt_length, mask, logprobs, values, advantages, returns)
        metrics = {
            "reward_mean": scores.mean().item(),
            "reward_std": scores.std().item() if len(scores) > 1 else 0.0,
            "kl": kl.sum(dim=1).mean().item(),
            "response_length": mask.sum(dim=1).mean().item(),
        }
        sample_line = f"{prompts[0]!r} -> {completions[0]!r} (reward {scores[0].item():.3f})"
        return rollout, metrics, sample_line

    @contextlib.contextmanager
    def _reference_model(self):
        if self.reference is not None:
            yield self.reference
            return
        policy = self.accelerator.unwrap_model(self.model).policy
        with policy.disable_adapter():
            yield policy

    def _score(self, texts: list[str]) -> torch.Tensor:
        """Reward-model scores, fed as RewardTrainer trained it: prompt + response + EOS."""
        eos = self.reward_tokenizer.eos_token or ""
        batch = self.reward_tokenizer([text + eos for text in texts], return_tensors="pt", padding=True,
                                      truncation=True, max_length=self.config.max_length)
        return self.reward_model(**batch.to(self.accelerator.device)).logits[:, 0].float()

    # --- optimisation -------------------------------------------------------------------
    def _optimise(self, rollout: Rollout) -> dict[str, float]:
        config = self.config
        totals = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "clip_fraction": 0.0}
        minibatches = 0
        for _ in range(config.ppo_epochs):
            order = torch.randperm(config.rollout_batch_size)
            for number, start in enumerate(range(0, config.rollout_batch_size, config.per_device_batch_size)):
                index = order[start:start + config.per_device_batch_size].to(rollout.sequences.device)
                logits, values = self.model(rollout.sequences[index], rollout.attention_mask[index])
                logprobs, response_logits = _response_logprobs(
                    logits, rollout.sequences[index], rollout.prompt_length, config.temperature)
                values = values[:, rollout.prompt_length - 1:-1]
                mask = rollout.mask[index]
                pg_loss, clip_fraction = ppo_math.policy_loss(
                    logprobs, rollout.logprobs[index], rollout.advantages[index], mask, config.cliprange)
                vf_loss, _ = ppo_math.value_loss(
                    values, rollout.values[index], rollout.returns[index], mask, config.cliprange_value)
                loss = (pg_loss + config.vf_coef * vf_loss) / config.gradient_accumulation_steps
                self.accelerator.backward(loss)
                if (number + 1) % config.gradient_accumulation_steps == 0:
                    self.accelerator.clip_grad_norm_(self.model.parameters(), 1.0)
                    self.optimizer.step()
                    self.optimizer.zero_grad()
                with torch.no_grad():
                    totals["entropy"] += ppo_math.masked_mean(ppo_math.entropy(response_logits), mask).item()
                totals["policy_loss"] += pg_loss.item()
                totals["value_loss"] += vf_loss.item()
                totals["clip_fraction"] += clip_fraction.item()
                minibatches += 1
        self.optimizer.zero_grad()
        return {name: total / minibatches for name, total in totals.items()}

    # --- checkpoints --------------------------------------------------------------------
    def _save_checkpoint(self, step: int) -> None:
        self.accelerator.wait_for_everyone()
        if not self.accelerator.is_main_process:
            return
        folder = checkpoint_dir(self.output_dir, step)
        model = self.accelerator.unwrap_model(self.model)
        model.policy.save_pretrained(folder)  # an adapter folder with LoRA, a full model otherwise
        self.tokenizer.save_pretrained(folder)
        trainable = {name: p.detach().cpu() for name, p in model.named_parameters() if p.requires_grad}
        torch.save({"trainable": trainable, "optimizer": self.optimizer.state_dict(),
                    "rng": torch.get_rng_state()}, folder / STATE_FILE)
        (folder / TRAINER_STATE).write_text(json.dumps({"global_step": step}))

    def _resume(self) -> int:
        folder = last_checkpoint(self.output_dir)
        if folder is None:
            self.reporter.text("no checkpoint to resume from: starting at step 0")
            return 0
        state = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=False)
        model = self.accelerator.unwrap_model(self.model)
        model.load_state_dict(state["trainable"], strict=False)
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        step = json.loads((folder / TRAINER_STATE).read_text())["global_step"]
        self.reporter.text(f"resuming from {folder.name}")
        return step

    def _save_final(self) -> Path | None:
        self.accelerator.wait_for_everyone()
        if not self.accelerator.is_main_process:
            return None
        policy = self.accelerator.unwrap_model(self.model).policy
        final_dir = save_final(policy, self.tokenizer, self.output_dir)
        self.reporter.text(f"saved {final_dir}")
        return final_dir


def train_ppo(splits: Splits, config: PPOConfig, output_dir: Path, reporter: Reporter, *,
              resume: bool = False) -> TrainingResult:
    return PPOTrainer(splits.train, config, output_dir, reporter).train(resume=resume)
