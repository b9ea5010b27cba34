"""O3: click commands stacked on an ``async def`` (issue 11, section 3)."""

from . import bad, good

_ROOT = '''
from metaflow._vendor import click

@click.group()
def cli():
    pass

@cli.group(name="temporal-ish")
def temporal_ish():
    """Deploy to the engine."""
'''

CASES = [
    bad(
        "O3", "MFX111", "trigger under options and pass_obj",
        {"orch/cli.py": _ROOT + '''
@temporal_ish.command(help="Trigger.")  # <-
@click.option("--run-id-file", default=None)
@click.option("--deployer-attribute-file", default=None, hidden=True)
@click.pass_obj
async def trigger(obj, run_id_file=None, deployer_attribute_file=None):
    handle = await obj.client.start_workflow("run")
    return handle
'''},
    ),
    bad(
        "O3", "MFX111", "group imported from the module that defines it",
        {
            "orch/cli.py": _ROOT,
            "orch/commands.py": '''
from metaflow._vendor import click
from .cli import temporal_ish

@temporal_ish.command()
@click.pass_context
def create(ctx):
    pass

@temporal_ish.command(name="trigger")  # <-
@click.pass_context
async def trigger_cmd(ctx):
    await ctx.obj.engine.submit()
''',
        },
    ),
    bad(
        "O3", "MFX111", "plain pip click command, bare decorator",
        {"orch/tool.py": '''
import click

@click.command  # <-
async def main():
    await run()
'''},
    ),
    bad(
        "O3", "MFX111", "commands registered inside a factory function",
        {"orch/cli.py": '''
from metaflow._vendor import click

def make_cli():
    @click.group()
    def orch():
        pass

    @orch.command()  # <-
    async def trigger():
        await go()

    return orch
'''},
    ),
    good(
        "O3", "MFX111", "sync command driving a coroutine",
        {"orch/cli.py": _ROOT + '''
import asyncio

@temporal_ish.command()
@click.pass_obj
def trigger(obj):
    asyncio.run(_start(obj))

async def _start(obj):
    await obj.client.start_workflow("run")
'''},
    ),
    good(
        "O3", "MFX111", "discord-style bot commands are awaited by their framework",
        {"orch/bot.py": '''
import click
from discord.ext import commands

bot = commands.Bot(command_prefix="!")

@bot.command()
async def status(ctx):
    await ctx.send("ok")

@click.command()
def main():
    bot.run("token")
'''},
    ),
    good(
        "O3", "MFX111", "asyncclick",
        {"orch/cli.py": '''
import asyncclick as click

@click.group()
async def cli():
    pass

@cli.command()
async def trigger():
    pass
'''},
    ),
]
