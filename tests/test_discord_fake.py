"""Proves the loopback fake Discord drives the real discord.Client, CommandTree and views."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from tests.fakes.discord_platform import BOT_DM, ClientFailure, fast_client

THEMES = ["open models", "rlhf", "reasoning", "post-training"]


class Again(discord.ui.View):
    """Must be built inside the running loop: a View made outside one ignores every click."""

    def __init__(self, clicks: list[discord.abc.User]) -> None:
        super().__init__(timeout=None)
        self.clicks = clicks

    @discord.ui.button(label="Another", custom_id="again")
    async def again(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        self.clicks.append(interaction.user)
        await interaction.response.edit_message(content=f"another for {interaction.user.name}")


@pytest.fixture
def clicks() -> list[discord.abc.User]:
    return []


@pytest.fixture
def tree(clicks) -> app_commands.CommandTree:
    tree = app_commands.CommandTree(fast_client())

    @tree.command(description="Check the bot is alive")
    async def ping(interaction: discord.Interaction, secret: bool = False) -> None:
        await interaction.response.send_message("pong", ephemeral=secret)

    @tree.command(description="A quote on a theme")
    async def quote(interaction: discord.Interaction, theme: str) -> None:
        await interaction.response.send_message(f"on {theme}", view=Again(clicks))
        await interaction.followup.send("and a source", ephemeral=True)

    @quote.autocomplete("theme")
    async def theme_choices(
        _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in THEMES if current in t]

    @tree.command(description="Who may configure daily posts")
    async def config(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        may = interaction.permissions.manage_guild
        await interaction.edit_original_response(content=f"manage_guild={may}")

    group = app_commands.Group(name="lambert", description="Quotes")

    @group.command(description="Search quotes")
    async def search(interaction: discord.Interaction, text: str) -> None:
        await interaction.response.send_message(f"searching {text}")

    tree.add_command(group)
    return tree


@pytest.fixture
def client(tree) -> discord.Client:
    return tree.client


async def test_ping_records_a_message_callback(client, run_client) -> None:
    async with run_client(client) as fake:
        await fake.send_interaction(fake.slash_command("ping"))
        public = await fake.next_callback()
        await fake.send_interaction(fake.slash_command("ping", {"secret": True}))
        secret = await fake.next_callback()
    assert (public.type, public.content, public.ephemeral) == (4, "pong", False)
    assert (secret.type, secret.content, secret.flags) == (4, "pong", 64)


async def test_defer_then_edit_original_with_member_permissions(client, run_client) -> None:
    async with run_client(client) as fake:
        for user, may in ((fake.member, False), (fake.admin, True)):
            await fake.send_interaction(fake.slash_command("config", user=user))
            deferred = await fake.next_callback()
            edit = await fake.next_webhook_message()
            assert (deferred.type, deferred.ephemeral) == (5, True)
            assert (edit.kind, edit.target, edit.content) == (
                "edit",
                "@original",
                f"manage_guild={may}",
            )


async def test_subcommand(client, run_client) -> None:
    async with run_client(client) as fake:
        await fake.send_interaction(fake.slash_command("lambert search", {"text": "rlhf"}))
        assert (await fake.next_callback()).content == "searching rlhf"


async def test_autocomplete_answers_with_choices(client, run_client) -> None:
    async with run_client(client) as fake:
        await fake.send_interaction(fake.autocomplete("quote", {"theme": "re"}, focused="theme"))
        callback = await fake.next_callback()
    assert callback.type == 8
    assert callback.choices == [{"name": "reasoning", "value": "reasoning"}]


async def test_button_click_updates_the_message_as_the_clicker(client, clicks, run_client) -> None:
    async with run_client(client) as fake:
        await fake.send_interaction(fake.slash_command("quote", {"theme": "rlhf"}))
        sent = await fake.next_callback()
        await fake.send_interaction(fake.component_click("again", sent, user=fake.admin))
        update = await fake.next_callback()
    assert sent.components[0]["components"][0]["custom_id"] == "again"
    assert (update.type, update.content) == (7, "another for moderator")
    assert update.message is not None and update.message["id"] == sent.message["id"]
    assert [user.id for user in clicks] == [fake.admin.id]
    assert clicks[0].guild_permissions.manage_guild


async def test_followup_reaches_the_webhook_route(client, run_client) -> None:
    async with run_client(client) as fake:
        await fake.send_interaction(fake.slash_command("quote", {"theme": "rlhf"}))
        followup = await fake.next_webhook_message()
    assert (followup.kind, followup.content, followup.ephemeral) == (
        "followup",
        "and a source",
        True,
    )
    request = next(r for r in fake.requests if r.path.startswith("/webhooks/"))
    assert request.path == f"/webhooks/{fake.app_id}/{followup.token}"
    assert "Authorization" not in request.headers


async def test_channel_send_records_allowed_mentions(client, run_client) -> None:
    async with run_client(client) as fake:
        channel = client.get_channel(fake.channels["quotes"])
        sent = await channel.send(
            "@everyone daily quote", allowed_mentions=discord.AllowedMentions.none()
        )
        posted = await fake.next_channel_message()
    assert posted.channel_id == fake.channels["quotes"]
    assert posted.allowed_mentions == {"parse": []}
    assert sent.id == int(posted.message["id"])


async def test_sync_records_command_json(tree, client, run_client, fake_discord) -> None:
    guild = discord.Object(fake_discord.guild_id)
    async with run_client(client):
        tree.copy_global_to(guild=guild)
        synced = await tree.sync()
        await tree.sync(guild=guild)
    by_name = {c["name"]: c for c in fake_discord.synced_commands[None]}
    assert set(by_name) == {"ping", "quote", "config", "lambert"}
    assert by_name["quote"]["options"][0]["autocomplete"] is True
    assert by_name["lambert"]["options"][0] == {
        **by_name["lambert"]["options"][0],
        "type": 1,
        "name": "search",
    }
    assert {c.name for c in synced} == set(by_name)
    assert len(fake_discord.synced_commands[fake_discord.guild_id]) == 4


@pytest.mark.parametrize(
    ("status", "error"),
    [(403, discord.Forbidden), (404, discord.NotFound), (429, discord.RateLimited)],
)
async def test_channel_failures_raise_in_the_client(
    client, run_client, fake_discord, status, error
) -> None:
    channel_id = fake_discord.channels["general"]
    fake_discord.fail_channel(channel_id, status)
    client.http.max_ratelimit_timeout = 30.0
    async with run_client(client):
        with pytest.raises(error) as raised:
            await client.get_channel(channel_id).send("quote")
    if status == 403:
        assert (raised.value.status, raised.value.code) == (403, 50013)
    assert fake_discord.channel_messages == []


async def test_a_message_over_discords_limit_is_rejected(client, run_client) -> None:
    async with run_client(client) as fake:
        with pytest.raises(discord.HTTPException) as raised:
            await client.get_channel(fake.channel_id).send("x" * 2001)
    assert (raised.value.status, raised.value.code) == (400, 50035)


async def test_a_malformed_ready_fails_the_test_with_the_client_traceback(
    client, fake_discord
) -> None:
    fake_discord.ready_transform = lambda ready: {k: v for k, v in ready.items() if k != "user"}
    with pytest.raises(ClientFailure, match="crashed") as raised:
        async with fake_discord.run_client(client):
            pytest.fail("the client must not become ready")
    assert isinstance(raised.value.__cause__, KeyError)


async def test_an_exception_in_a_command_fails_the_test(run_client) -> None:
    client = fast_client()
    tree = app_commands.CommandTree(client)

    @tree.command(description="Always breaks")
    async def broken(interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")

    with pytest.raises(ClientFailure, match="broken"):
        async with run_client(client) as fake:
            await fake.send_interaction(fake.slash_command("broken"))
            await fake.next_callback(seconds=1.0)


async def test_a_user_install_interaction_takes_at_most_five_followups(run_client) -> None:
    """Discord's limit for apps added to a user's account; server installs have none."""
    client = fast_client()
    seen: list[discord.Interaction] = []

    @client.event
    async def on_interaction(interaction: discord.Interaction) -> None:
        seen.append(interaction)

    async with run_client(client) as fake:
        place = fake.user_install_place(BOT_DM)
        await fake.send_interaction(fake.slash_command("lambert", channel_id=place.channel_id))
        (interaction,) = seen
        await interaction.response.defer(ephemeral=True)
        for _ in range(5):
            await interaction.followup.send("one more")
        with pytest.raises(discord.HTTPException) as refused:
            await interaction.followup.send("one too many")
    assert (refused.value.status, refused.value.code) == (400, 40094)
