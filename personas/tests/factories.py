import factory

from mybella.users.models import User
from personas.models import CommunicationStyle, PersonaProfile


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("a-long-password")


class PersonaFactory(factory.django.DjangoModelFactory):
    """A custom persona owned by a user."""

    class Meta:
        model = PersonaProfile

    owner = factory.SubFactory(UserFactory)
    is_custom = True
    name = factory.Sequence(lambda n: f"Persona {n}")
    slug = factory.Sequence(lambda n: f"persona-{n}")
    tagline = "A test persona."
    bio = factory.Faker("paragraph")
    traits = factory.LazyFunction(lambda: ["kind", "curious"])
    communication_style = CommunicationStyle.PLAYFUL
    greeting = "Hello there!"


class SystemPersonaFactory(PersonaFactory):
    owner = None
    is_custom = False
    name = factory.Sequence(lambda n: f"System {n}")
    slug = factory.Sequence(lambda n: f"system-{n}")
