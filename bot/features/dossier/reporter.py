"""The reporter's side of the dossier: a button on their case, and the files sent in the chat."""

from __future__ import annotations

from bot.base.messages import Attachment, Button, Reply
from bot.core.features import Feature
from bot.core.turn import TurnContext
from bot.features import dossier
from flows import catalog, text

feature = Feature("dossier")


def dossier_button(ctx: TurnContext, ref: str) -> Button:
    """The button that sends the reporter the aangifte dossier of one of their cases."""
    return Button(text("case_status", "button_dossier"), f"dossier:{ref}")


async def send_dossier(ctx: TurnContext, ref: str) -> bool:
    """Send the dossier of one of the reporter's own cases as documents; False when not theirs.

    Documents carry a neutral name and caption, so a notification shows nothing of the incident.
    """
    case = await ctx.store.case_by_ref(ctx.session, ref)
    if case is None or case.reporter_id != ctx.reporter.id:
        return False
    flow = catalog().flows["case_status"]
    try:
        made = await dossier.reporter_files(case, ctx.now)
    except dossier.DossierUnavailable:
        ctx.say(text(flow, "dossier_unavailable"))
        return True
    for number, file in enumerate(made):
        if number == 0:
            caption = text(flow, "dossier_caption", ref=case.ref)
        elif len(made) == 2:
            caption = text(flow, "dossier_package_caption", ref=case.ref)
        else:
            caption = text(
                flow,
                "dossier_package_part_caption",
                ref=case.ref,
                part=number,
                parts=len(made) - 1,
            )
        attachment = Attachment("document", file.data, file.mime, file.name)
        ctx.replies.append(Reply(caption, file=attachment))
    if len(made) > 2:
        megabytes = dossier.TELEGRAM_LIMIT // (1000 * 1000)
        ctx.say(text(flow, "dossier_split", megabytes=megabytes, parts=len(made) - 1))
    if len(made) > 1:
        ctx.say(text(flow, "dossier_package_sent"))
    ctx.say(text(flow, "dossier_sent"))
    await ctx.store.add_event(ctx.session, case, "dossier_made", "melder", {"for": "reporter"})
    return True


@feature.button("dossier")
async def on_dossier(ctx: TurnContext, value: str) -> None:
    await ctx.resume(expired=not await send_dossier(ctx, value))
