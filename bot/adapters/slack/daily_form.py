"""The daily-quote form's listeners: open it (admins only), answer its zone menu, save it."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import modal
from bot.adapters.slack.after_ack import Ack, Respond, SlackUser, acked
from bot.adapters.slack.blocks import context, reply_message
from bot.adapters.slack.home import HomeTab
from bot.adapters.slack.payload import action_value, request_context, str_at
from bot.chat import daily_verbs
from bot.chat.grammar import perform
from bot.chat.replies import Reply, TextReply
from bot.daily.schedules import Schedule, parse_zone

log = logging.getLogger(__name__)

# chat.postEphemeral's answers when the bot cannot reach a channel (nor could its daily post).
CANNOT_REACH = {"channel_not_found", "not_in_channel", "is_archived"}
REFUSED = TextReply(
    "Only admins can manage the daily quote.",
    ("Ask a workspace admin or owner to change it.",),
    ok=False,
)


class DailyForm(HomeTab):
    """Each acks first, but the submission checks before its ack: inline errors travel in it."""

    async def open_form(
        self,
        payload: dict[str, Any],
        client: AsyncWebClient,
        user: SlackUser,
        channel: str,
        origin: str,
        from_home: bool = False,
    ) -> bool:
        """Open the form for an admin, pre-filled with `channel`'s schedule or the user's zone.
        False when Slack refused (an expired trigger_id): the caller answers in text."""
        key = request_context(payload, channel, user.id).channel  # as the core names it
        found = await self.core.daily.status("slack", key) if modal.is_channel_id(channel) else None
        shown: tuple[Schedule | None, str | None, tuple[str, ...]]
        if found is not None:
            said = daily_verbs.described(self.core, found)
            shown = found.schedule, None, (said.title, *said.lines)
        else:
            shown = None, modal.valid(parse_zone, str((await user.info()).get("tz") or "")), ()
        view = modal.settings_view(self.core.quotes, channel, origin, *shown, from_home=from_home)
        try:
            await client.views_open(trigger_id=str_at(payload, "trigger_id"), view=view)
        except SlackApiError as exc:
            log.warning("slack: views.open failed (%s)", exc.response.get("error"))
            return False
        log.info("slack: daily form opened channel=%s user=%s", channel or "-", user.id)
        return True

    @acked("Change", report=False)
    async def change(
        self, body: dict[str, Any], respond: Respond | None, client: AsyncWebClient
    ) -> None:
        """The Change button (on a status reply or the Home tab): the form, for admins only."""
        user = SlackUser(client, str_at(body, "user", "id"), self.admins)
        here = str_at(body, "channel", "id")
        channel = action_value(body) or here
        home = str_at(body, "view", "type") == "home"
        if not await user.is_admin():
            failed = REFUSED
        elif await self.open_form(body, client, user, channel, here, home):
            return
        else:
            failed = TextReply("The form could not open; try again.", (), ok=False)
        if respond is not None:  # a click on the Home tab has no response_url
            message = reply_message(failed)
            await respond(response_type="ephemeral", replace_original=False, **message)

    async def zones(self, ack: Ack, payload: dict[str, Any]) -> None:
        """The zone menu's type-ahead (block_suggestion), answered in the ack."""
        await ack(options=modal.zone_options(str(payload.get("value") or "")))

    async def submit(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        form = modal.read_submission(view, self.core.quotes)
        if not isinstance(form, modal.Submission):
            await ack(response_action="errors", errors=form)  # shown under each field
            return
        await ack()  # closes the modal
        self.after_ack("daily form", self._save(form, body, client))

    async def _save(
        self, form: modal.Submission, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = SlackUser(client, str_at(body, "user", "id"), self.admins)
        name = str_at(body, "user", "name") or str_at(body, "user", "username")
        ctx = request_context(body, form.channel, user.id, user_name=name, admin=user.is_admin)
        on = partial(daily_verbs.turn_on, self.core, ctx, form.local_time, form.tz, form.theme)
        # under the admin rule of the text grammar's `daily` row
        reply = await perform("daily", ctx, partial(on, weekdays=form.weekdays), self.core)
        await self._confirm(client, form, user.id, reply)
        if form.from_home:
            await self.publish_home(user.id, ctx.space, client)  # its list shows the new schedule

    async def _confirm(
        self, client: AsyncWebClient, form: modal.Submission, user_id: str, reply: Reply
    ) -> None:
        """An ephemeral in the chosen channel; in the form's own channel if lambert cannot
        post there (then its daily post could not either, so the admin is told)."""
        message = reply_message(reply)
        if isinstance(reply, TextReply) and reply.ok:
            message["blocks"].append(modal.change_button(form.channel))
        why = "or its daily quote will stop."
        cannot = f"lambert cannot post in <#{form.channel}>: `/invite @lambert` there, {why}"
        for channel in dict.fromkeys(c for c in (form.channel, form.origin) if c):
            try:
                await client.chat_postEphemeral(channel=channel, user=user_id, **message)
                return
            except SlackApiError as exc:
                if exc.response.get("error") not in CANNOT_REACH:
                    raise
            message["blocks"].append(context(cannot))
        log.warning("slack: could not confirm the daily form to %s", user_id)
