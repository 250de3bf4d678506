"""Projects, their items and responses, and what annotators did with them.

Conventions every service relies on:
- A response's `position` is its canonical place in the item (0-based, as uploaded).
  Ranks, ratings and gold answers are lists indexed by canonical position; the order an
  annotator saw is stored separately (`shown_order`, canonical positions in display order).
- Ranks are 1 = best; equal ranks are a tie. A pairwise judgement is a ranking of two:
  [1, 2] first better, [2, 1] second better, [1, 1] tie.
"""
from pathlib import Path

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length

from .flag_thresholds import validate_flag_thresholds


class TaskMode(models.TextChoices):
    PAIRWISE = "pairwise", "Pairwise (A/B)"
    RANKING = "ranking", "Ranking of N"
    RATING = "rating", "Rating (Likert)"


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    guidelines = models.TextField(blank=True, help_text="Markdown shown beside every item.")
    task_mode = models.CharField(max_length=16, choices=TaskMode.choices, default=TaskMode.PAIRWISE)
    allow_ties = models.BooleanField(default=True)
    rating_min = models.SmallIntegerField(default=1)
    rating_max = models.SmallIntegerField(default=5)
    overlap = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="How many annotators judge each item.",
    )
    lease_seconds = models.PositiveIntegerField(
        default=900, validators=[MinValueValidator(30)], help_text="How long an item stays reserved for one annotator."
    )
    gold_rate = models.FloatField(
        default=0.1,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of served items that are gold items, while gold items remain.",
    )
    undo_seconds = models.PositiveIntegerField(default=120, help_text="How long an annotator may undo or edit their last judgement.")
    is_active = models.BooleanField(default=True, help_text="Closed projects hand out no items.")
    flag_thresholds = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_flag_thresholds],
        help_text="Overrides of the bias and quality flag thresholds, e.g. {\"alpha\": 0.05}; unset keys keep their defaults.",
    )
    flags_requested_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set while a recomputation of the flags is queued."
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(rating_min__lt=models.F("rating_max")), name="project_rating_scale_ordered"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ANNOTATOR = "annotator", "Annotator"
        ADMIN = "admin", "Project admin"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    is_suspended = models.BooleanField(default=False, help_text="Suspended annotators get no more items.")
    exclude_from_exports = models.BooleanField(default=False, help_text="Leave this annotator's judgements out of exports.")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_once_per_project")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project}"


class Item(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(max_length=255)
    prompt = models.JSONField(help_text='A string, or chat messages [{"role", "content"}, ...].')
    metadata = models.JSONField(default=dict, blank=True)
    is_gold = models.BooleanField(default=False)
    gold_answer = models.JSONField(null=True, blank=True, help_text="Expected ranks (or ratings) by response position.")
    judgement_count = models.PositiveIntegerField(default=0, help_text="Kept by the queue in the submit transaction.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="item_external_id_unique_per_project"),
            models.CheckConstraint(condition=Q(is_gold=False) | Q(gold_answer__isnull=False), name="gold_item_has_answer"),
        ]
        indexes = [
            # The queue walks open items of a project, fullest first: this index serves that walk.
            models.Index(fields=["project", "is_gold", "judgement_count", "id"], name="item_queue_walk"),
        ]

    def __str__(self) -> str:
        return f"{self.project.slug}/{self.external_id}"

    @property
    def is_chat(self) -> bool:
        return isinstance(self.prompt, list)


class Response(models.Model):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="responses")
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    model_name = models.CharField(max_length=200, blank=True)
    # Computed and stored by the database (a generated column), so every way of writing responses
    # (bulk inserts, COPY, plain SQL) fills it and an edited text cannot leave it stale. The flags
    # read it instead of measuring every text of a project on each refresh.
    char_count = models.GeneratedField(
        expression=Length("text"), output_field=models.PositiveIntegerField(), db_persist=True
    )

    class Meta:
        ordering = ["item", "position"]
        constraints = [models.UniqueConstraint(fields=["item", "position"], name="response_position_unique_per_item")]
        # Lets the flags read a project's response lengths from the index alone, not the texts' pages.
        indexes = [models.Index(fields=["item", "position", "char_count"], name="response_length_by_item")]

    def __str__(self) -> str:
        return f"{self.item} #{self.position}"


class Assignment(models.Model):
    class State(models.TextChoices):
        LEASED = "leased", "Leased"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"
        EXPIRED = "expired", "Expired"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    state = models.CharField(max_length=16, choices=State.choices, default=State.LEASED)
    shown_order = models.JSONField(help_text="Canonical response positions in the order they were shown.")
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    skip_reason = models.TextField(blank=True)
    edit_of = models.JSONField(
        null=True, blank=True, help_text="After an undo: what was submitted before (ranks, ratings, strength, rationale)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "annotator"], name="assignment_once_per_item_and_annotator")]
        indexes = [
            models.Index(fields=["annotator", "project", "state"], name="assignment_annotator_state"),
            models.Index(fields=["item", "state", "expires_at"], name="assignment_item_live"),
            # expire_leases reads only the leases still open, however many assignments pile up.
            models.Index(fields=["expires_at"], condition=Q(state="leased"), name="assignment_lease_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.item} -> {self.annotator} ({self.state})"


class Judgement(models.Model):
    class Strength(models.IntegerChoices):
        SLIGHTLY = 1, "Slightly better"
        CLEARLY = 2, "Clearly better"
        MUCH = 3, "Much better"

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="judgement")
    # Copied from the assignment so that statistics and exports read one table.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="judgements")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="judgements")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="judgements")
    ranks = models.JSONField(null=True, blank=True, help_text="Rank per response position, 1 = best, equal = tie.")
    ratings = models.JSONField(null=True, blank=True, help_text="Rating per response position.")
    strength = models.PositiveSmallIntegerField(choices=Strength.choices, null=True, blank=True)
    shown_order = models.JSONField()
    rationale = models.TextField(blank=True)
    seconds_spent = models.FloatField(validators=[MinValueValidator(0.0)])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ranks__isnull=False) | Q(ratings__isnull=False), name="judgement_has_ranks_or_ratings"),
        ]
        indexes = [
            models.Index(fields=["project", "created_at"], name="judgement_project_time"),
            models.Index(fields=["annotator", "project", "created_at"], name="judgement_annotator_time"),
        ]

    def __str__(self) -> str:
        return f"{self.item} by {self.annotator}"


class AnnotatorFlag(models.Model):
    """A bias or quality concern about one annotator in one project, kept current by annotate.bias."""

    class Kind(models.TextChoices):
        POSITION_BIAS = "position_bias", "Position bias"
        LENGTH_BIAS = "length_bias", "Length bias"
        TOO_FAST = "too_fast", "Too fast to read"
        UNIFORM_TIMING = "uniform_timing", "Too-uniform timing"
        STRAIGHT_LINING = "straight_lining", "Straight-lining"
        RANDOM = "random", "No better than chance"
        GOLD_ACCURACY = "gold_accuracy", "Low gold accuracy"
        DRIFT = "drift", "Agreement drifting down"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="annotator_flags")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotator_flags")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    reason = models.TextField(help_text="Why, in plain language, with the numbers behind it.")
    statistic = models.FloatField(help_text="The measured effect, e.g. the share of first-shown picks.")
    p_value = models.FloatField(null=True, blank=True, help_text="Benjamini-Hochberg adjusted across annotators; for random, the chance of doing this well by picking at random.")
    computed_at = models.DateTimeField()
    is_active = models.BooleanField(default=True, help_text="Off once a recomputation no longer raises it.")

    class Meta:
        ordering = ["project", "annotator", "kind"]
        constraints = [models.UniqueConstraint(fields=["project", "annotator", "kind"], name="flag_once_per_annotator_and_kind")]
        indexes = [models.Index(fields=["project", "is_active", "kind"], name="flag_project_active")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.annotator} in {self.project}"


class Snapshot(models.Model):
    """An immutable, hashed export of one project's (or several projects') judgements.

    The files live in `settings.SNAPSHOT_DIR / folder` beside a manifest.json; once `ready`
    nothing rewrites them, so a training run can name a snapshot and be reproduced.
    """

    class Kind(models.TextChoices):
        PAIRS = "pairs", "Preference pairs"
        SFT = "sft", "Supervised fine-tuning (prompt + best response)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="snapshots")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PAIRS)
    options = models.JSONField(default=dict, blank=True, help_text="The export options, as written to the manifest.")
    counts = models.JSONField(default=dict, blank=True)
    annotators = models.JSONField(default=list, blank=True, help_text="Usernames whose judgements are in the files.")
    code_version = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="Over the data files, in sorted order.")
    folder = models.CharField(max_length=255, blank=True, help_text="Relative to settings.SNAPSHOT_DIR.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.FloatField(default=0.0, help_text="0 to 1 while running.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="snapshots"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project.slug} {self.kind} snapshot #{self.pk}"

    @property
    def path(self) -> Path:
        return Path(settings.SNAPSHOT_DIR) / self.folder
