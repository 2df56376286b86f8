"""The ids Plan Bot gives Slack and listens for, one place each: a button built in
handlers/messages/ and the listener in handlers/actions/ name the same member."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    """`action_id` of a button or menu."""

    SUBMIT = "prompt_submit"  # the prompt's "Submit update": opens the form
    NO_CHANGE = "prompt_no_change"  # the prompt's "No change — same as last month"
    REOPEN = "form_reopen"  # the form's menu of complete initiatives to report on again
    SHARE = "plan_share"  # "Share in channel" under a /plan answer
    HOME_UPDATE = "home_update"  # App Home's "Update" beside a department
    REPLY_CHOICE = "reply_choice"  # a reading offered back in a thread; "_N" follows
    REPLY_UNDO = "reply_undo"  # Undo under the answer to a thread reply
    ASK_HELP = "ask_help"  # "Ask for help" on the prompt, the thread answer and /plan fire 3
    HELP_ACKNOWLEDGE = "help_acknowledge"  # on a request for help in the escalation channel
    HELP_RESOLVE = "help_resolve"


class CallbackId(StrEnum):
    """`callback_id` of a modal."""

    UPDATE_FORM = "update_form"
    ASK_HELP = "ask_help_form"  # what is blocked, who could unblock it
    PUBLISH = "publish_preview"  # `/plan publish`: the notes an admin reviews before publishing
