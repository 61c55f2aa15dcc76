"""LS203 ratio-over-cap: the declared shares and synthetic fractions of a step's inputs give a synthetic share
above its cap.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopscan.analysis.mixing import Portion, over, portion, synthetic_share
from loopscan.findings import Problem
from loopscan.project import Project
from loopscan.rule import rule
from loopscan.sources.manifest import Step
from loopscan.wording import percent, shown


@rule("LS203", "ratio-over-cap", severity="error", play=2, scope="step")
def check(project: Project, step: Step) -> Iterator[Problem]:
    """The declared shares and synthetic fractions of a step's inputs give a synthetic share above its cap.

    ## Why is this bad?
    Play 2 of the playbook makes the cap "a gate, not a suggestion". A cap
    that the declared mix itself exceeds is a promise the manifest already
    breaks, and Bertrand et al. ("On the Stability of Iterative Retraining
    of Generative Models on their own Data", ICLR 2024) tie the stability of
    retraining to the real share of each mix.

    The synthetic share is the sum, over the training `targets` with a
    `share`, of the share times the input's synthetic part by its inferred
    provenance: `ai` 100%, `human` 0%, `mixed` its `synthetic_fraction`
    (100% when unknown), `unknown` 100% (data nobody classified counts as
    fully synthetic). A `teacher` input's share counts as `ai` targets: the
    step learns to reproduce the teacher's outputs. Inputs with another
    `role` (`prompts`, `init`, `scorer`) are not part of what the step
    learns, and are left out. The sum is exact: a mix exactly at its cap passes. A train step
    without a cap is held to the policy ceiling.

    ## Example
    ```yaml
    datasets:
      transcripts: {provenance: mixed}          # no synthetic_fraction: counts as 1
      anchor-v3: {provenance: human, frozen: true}
    steps:
      finetune:
        kind: train
        inputs:
          - {ref: transcripts, share: 0.4}
          - {ref: anchor-v3, share: 0.6}
          - {ref: support-questions, role: prompts, share: 0.5}   # not learnt: left out
        mixing: {max_synthetic: 0.2, anchor: anchor-v3}   # the mix is 40% synthetic
    ```

    ## Fix
    Give the human anchor a larger share, or declare the measured
    `synthetic_fraction` of the mixed input:
    ```yaml
      transcripts: {provenance: mixed, synthetic_fraction: 0.5}   # 0.4 * 0.5 = 0.2
    ```

    ## Options
    - `policy.max_synthetic` (default `0.3`): the limit for a train step that
      declares no cap of its own.
    """
    cap = step.mixing.max_synthetic if step.mixing is not None else None
    if cap is None and step.kind != "train":
        return
    portions = _portions(project, step)
    if not portions:
        return
    share = synthetic_share(portions)
    limit = cap if cap is not None else project.policy.max_synthetic
    if not over(share, limit):
        return
    which = f"its cap {percent(limit)}" if cap is not None else f"the policy ceiling {percent(limit)}"
    terms = ", ".join(_term(project, step, p) for p in portions)
    unknown = "; data of unknown provenance counts as fully synthetic" if any(
        p.provenance == "unknown" and p.synthetic for p in portions) else ""
    place = step.at("mixing", "max_synthetic") if cap is not None else step.location
    yield Problem(f"the training targets of '{step.id}' are {percent(share)} synthetic ({terms}), "
                  f"above {which}{unknown}", place, pipeline=step.pipeline, node=step.qualified)


def _term(project: Project, step: Step, part: Portion) -> str:
    """``'pairs' 40% ai`` or ``'chats' 20% mixed, 25% synthetic``: one input's part of the mix."""
    name = shown(project.facts, part.node, step.pipeline)
    what = part.provenance
    if part.provenance == "mixed":
        what += f", {percent(part.weight)} synthetic"
    return f"'{name}' {percent(part.share)} {what}"


def _portions(project: Project, step: Step) -> list[Portion]:
    """The training targets of ``step`` that declare a share, each with how synthetic it is.

    A ``teacher`` input's share is part of the targets too: the step learns its outputs, which are ``ai``.
    """
    facts = project.facts
    provenance = facts.provenance_flow.value
    found = []
    for ref in step.inputs:
        node = facts.linked.nodes.get(ref)
        if ref.share is None or node is None:
            continue
        if facts.input_role(step, ref) == "teacher":
            found.append(portion(node, ref.share, "ai", None))
        elif (ref, node) in facts.targets(step):
            artifact = facts.artifact(node)
            fraction = artifact.synthetic_fraction if artifact is not None and artifact.provenance == "mixed" else None
            found.append(portion(node, ref.share, provenance[node], fraction))
    return found
