import factory

from chat.models import ChatMessage, Conversation
from memory.models import ConversationMemory
from personas.tests.factories import UserFactory


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    user = factory.SubFactory(UserFactory)
    persona = factory.LazyFunction(lambda: _system("isabella"))


class ChatMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatMessage

    conversation = factory.SubFactory(ConversationFactory)
    user = factory.SelfAttribute("conversation.user")
    persona = factory.SelfAttribute("conversation.persona")
    role = ChatMessage.Role.USER
    content = factory.Sequence(lambda n: f"message number {n}")


class MemoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConversationMemory

    user = factory.SubFactory(UserFactory)
    persona = factory.LazyFunction(lambda: _system("isabella"))
    content = factory.Sequence(lambda n: f"remembered fact {n}")


def _system(slug: str):
    from personas.models import PersonaProfile

    return PersonaProfile.objects.get(slug=slug)
