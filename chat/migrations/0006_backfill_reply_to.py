"""Link each existing reply to the user's message it answered: the closest one before it.

Going back, the states that older code does not know become "failed", which it can retry.
"""

from django.db import migrations
from django.db.models import OuterRef, Q, Subquery

INTERRUPTED = "The reply was interrupted before it finished."


def link_replies(apps, schema_editor):
    Message = apps.get_model("chat", "ChatMessage")
    earlier_user_message = (
        Message.objects.filter(conversation_id=OuterRef("conversation_id"), role="user")
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
        )
        .order_by("-created_at", "-id")
        .values("id")[:1]
    )
    Message.objects.filter(role="assistant", reply_to__isnull=True).update(
        reply_to=Subquery(earlier_user_message)
    )


def unfinished_to_failed(apps, schema_editor):
    Message = apps.get_model("chat", "ChatMessage")
    unfinished = Message.objects.filter(status__in=["pending", "stopped"])
    unfinished.filter(error="").update(error=INTERRUPTED)
    unfinished.update(status="failed")


class Migration(migrations.Migration):
    dependencies = [("chat", "0005_message_reply_to")]

    operations = [migrations.RunPython(link_replies, unfinished_to_failed)]
