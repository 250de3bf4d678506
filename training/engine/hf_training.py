"""What the TRL-based kinds (reward, DPO, SFT) share: arguments, reporting, resume, cancel, final save."""

from __future__ import annotations

from pathlib import Path

import datasets
import transformers
from datasets import Dataset
from transformers import AutoTokenizer, PrinterCallback, TrainerCallback

from training.engine.checkpoints import last_checkpoint, save_final
from training.engine.config import TrainingConfig
from training.engine.data import Splits
from training.engine.device import DevicePlan, agreed_stop, plan_device
from training.engine.reporting import Reporter, TrainingResult
from training.engine.tiny import resolve_model_path

# Metrics go to the Reporter; progress bars would only clutter the run's log.
datasets.disable_progress_bars()
transformers.utils.logging.disable_progress_bar()


class ReporterCallback(TrainerCallback):
    """Forwards every log to the reporter and turns reporter.should_stop() into a saved stop."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter
        self.latest: dict[str, float] = {}
        self.cancelled = False
        self.last_eval_step = -1

    def on_log(self, args, state, control, logs=None, **kwargs):
        numbers = {name: float(value) for name, value in (logs or {}).items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool)}
        self.latest.update(numbers)
        if "eval_loss" in numbers:
            self.last_eval_step = state.global_step
        if state.is_world_process_zero:
            self.reporter.log(state.global_step, numbers)
        if "loss" in numbers and agreed_stop(self.reporter.should_stop(), args.device):  # not on evaluation logs
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = True
        return control


def trainer_arguments(config: TrainingConfig, output_dir: Path, plan: DevicePlan, *, evaluate: bool) -> dict:
    """Keyword arguments every TRL config class (RewardConfig, DPOConfig, SFTConfig) accepts."""
    return dict(
        output_dir=str(output_dir),
        learning_rate=config.learning_rate,
        max_steps=config.max_steps,
        num_train_epochs=config.num_train_epochs,
        per_device_train_batch_size=config.per_device_batch_size,
        per_device_eval_batch_size=config.per_device_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        max_length=config.max_length,
        seed=config.seed,
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=config.save_steps,
        bf16=plan.bf16,
        use_cpu=plan.device == "cpu",
        model_init_kwargs={"dtype": plan.dtype},
        report_to="none",
        disable_tqdm=True,
    )


def lora_arguments(config: TrainingConfig, task_type: str):
    from peft import LoraConfig

    if not config.use_lora:
        return None
    return LoraConfig(task_type=task_type, r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout, target_modules="all-linear")


def load_tokenizer(model_path: str, **options):
    """The model's tokenizer (`options` go to from_pretrained), padding with EOS when it has no pad token."""
    tokenizer = AutoTokenizer.from_pretrained(model_path, **options)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def train_with_trl(trainer_class, args_class, splits: Splits, config: TrainingConfig, output_dir: Path,
                   reporter: Reporter, *, resume: bool, lora_task_type: str, **method_args) -> TrainingResult:
    """Build a TRL trainer for the config, train (resuming if asked), evaluate on the test split, write final/.

    method_args are the method's own fields of its TRL config class (DPO's beta, ...).
    """
    model_path = resolve_model_path(config.base_model)
    plan = plan_device(config.precision)
    callback = ReporterCallback(reporter)
    trainer = trainer_class(
        model=model_path,
        args=args_class(**trainer_arguments(config, output_dir, plan, evaluate=bool(splits.test)), **method_args),
        train_dataset=Dataset.from_list(splits.train),
        eval_dataset=Dataset.from_list(splits.test) if splits.test else None,
        processing_class=load_tokenizer(model_path),
        peft_config=lora_arguments(config, lora_task_type),
        callbacks=[callback],
    )
    trainer.remove_callback(PrinterCallback)  # the reporter gets every log already

    checkpoint = last_checkpoint(output_dir) if resume else None
    if resume and checkpoint is None:
        reporter.text("no checkpoint to resume from: starting at step 0")
    elif checkpoint is not None:
        reporter.text(f"resuming from {checkpoint.name}")
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    step = trainer.state.global_step
    if callback.cancelled:
        reporter.text(f"cancelled at step {step}; checkpoint-{step} saved")
        return TrainingResult("cancelled", step, callback.latest, None)
    if trainer.eval_dataset is not None and callback.last_eval_step != step:
        trainer.evaluate()
    final_dir = None
    accelerator = trainer.accelerator
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        final_dir = save_final(accelerator.unwrap_model(trainer.model), trainer.processing_class, output_dir)
        reporter.text(f"saved {final_dir}")
    return TrainingResult("completed", step, callback.latest, final_dir)
