"""Generate realistic-ish chat text from word lists, deterministically from a seed.

Users talk about their pets, people, work, trips, food and hobbies; the assistant answers
in kind; memories state the same kind of facts in the third person. The vocabulary is shared,
so a search for "trip to Lisbon" or "my dog" finds real matches among messages and memories.
"""

import random


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


NAMES = _words(
    "Anna Ben Carla Daniel Elena Felix Grace Hugo Iris Jonas Kate Leo Mia Noah Olga Pablo "
    "Quinn Rosa Sam Tara Umar Vera Will Xena Yuki Zoe Marta Tomas Lina Oscar"
)
RELATIONS = _words(
    "sister brother mom dad friend boss coworker neighbour cousin partner roommate aunt "
    "grandma grandpa teacher"
)
PETS = _words("dog cat rabbit parrot hamster turtle puppy kitten goldfish horse")
PET_ACTIONS = _words(
    "chewed my shoes|slept on my laptop|learned a new trick|was sick all night|"
    "ran off in the park|got a haircut|met another dog|knocked over a plant|"
    "refused to eat|followed me everywhere",
    "|",
)
JOBS = _words(
    "nurse teacher developer designer accountant chef lawyer student electrician barista "
    "photographer engineer librarian pharmacist carpenter"
)
PLACES = _words(
    "Lisbon Tokyo Berlin Madrid Paris Rome Prague Vienna Oslo Kyoto Seoul Dublin Athens "
    "Barcelona Amsterdam Copenhagen Istanbul Mexico Montreal Edinburgh"
)
MONTHS = _words(
    "January February March April May June July August September October November December"
)
ACTIVITIES = _words(
    "hiking|running|swimming|painting|baking bread|playing guitar|reading novels|gardening|"
    "cycling|yoga|climbing|knitting|photography|chess|cooking curry|learning Spanish|"
    "watching horror movies|playing piano|skiing|writing poems|board games|surfing|"
    "bird watching|pottery|dancing salsa",
    "|",
)
FOODS = _words(
    "pizza|sushi|ramen|tacos|pancakes|lasagna|paella|dumplings|curry|falafel|croissants|"
    "cheesecake|pho|risotto|chocolate cake|ice cream|bagels|burritos|lentil soup|waffles",
    "|",
)
FEELINGS = _words(
    "tired stressed happy excited nervous anxious proud bored lonely grateful calm "
    "overwhelmed hopeful frustrated relaxed"
)
ADJECTIVES = _words(
    "amazing exhausting wonderful strange difficult lovely chaotic peaceful busy quiet "
    "surprising boring exciting stressful beautiful"
)
TIMES = _words(
    "today|yesterday|this morning|last night|last weekend|on Monday|on Friday|this week|"
    "a few days ago|after work|before lunch|on Sunday",
    "|",
)
THINGS = _words(
    "spiders|heights|flying|the dentist|deep water|public speaking|thunderstorms|"
    "job interviews|crowds|the dark",
    "|",
)
PROJECTS = _words(
    "the quarterly report|a new website|my thesis|the kitchen renovation|a wedding speech|"
    "the garden shed|my portfolio|a birthday party|the budget spreadsheet|a short story",
    "|",
)

USER_TEMPLATES = (
    "I went {activity} with my {relation} {name} {time}.",
    "My {pet} {petname} {pet_action} {time}.",
    "Work as a {job} has been {adj} {time_lower}.",
    "I'm thinking about a trip to {place} in {month}.",
    "I just booked flights to {place} for {month}!",
    "Do you like {food}? I made some {time}.",
    "I feel {feeling} about {project}.",
    "I've been {feeling} since {time}, not sure why.",
    "My {relation} {name} is visiting in {month}.",
    "I finally finished {project}!",
    "Can you remind me why I started {activity}?",
    "I'm scared of {thing}, always have been.",
    "We had {food} for dinner and it was {adj}.",
    "I want to get better at {activity} this year.",
    "My {relation} {name} got a new job as a {job}.",
    "Honestly the day was {adj}, I'm {feeling}.",
    "I keep putting off {project}.",
    "What should I cook tonight, {food} or {food2}?",
    "My {pet} {petname} hates {thing} too.",
    "I miss {place}, the trip in {month} was {adj}.",
    "Do you remember my {relation} {name}?",
    "I tried {activity} for the first time {time}.",
)
ASSISTANT_TEMPLATES = (
    "That sounds {adj}! How did {activity} go?",
    "Oh, {petname} sounds like a handful. Is your {pet} okay now?",
    "I'm glad you told me. Feeling {feeling} is completely normal.",
    "{place} in {month} sounds {adj}. What do you want to see first?",
    "You finished {project}? I'm really proud of you.",
    "{food} is a great choice. Did you make it yourself?",
    "How is your {relation} {name} doing these days?",
    "Being a {job} must be {adj} at times. What was the hardest part?",
    "Let's break {project} into small steps. What's the first one?",
    "It's okay to be scared of {thing}. Many people are.",
    "I remember you love {activity}. Have you had time for it lately?",
    "A {adj} day deserves a calm evening. Any plans?",
    "Tell me more about {name}. How did you two meet?",
    "Trying {activity} takes courage. How did it feel?",
)
MEMORY_TEMPLATES = (
    ("fact", "The user has a {pet} named {petname}."),
    ("fact", "The user works as a {job}."),
    ("fact", "The user's {relation} is called {name}."),
    ("preference", "The user loves {activity}."),
    ("preference", "The user's favourite food is {food}."),
    ("preference", "The user enjoys {activity} on weekends."),
    ("event", "The user is planning a trip to {place} in {month}."),
    ("event", "The user finished {project} in {month}."),
    ("event", "The user's {relation} {name} is visiting in {month}."),
    ("fact", "The user is afraid of {thing}."),
    ("fact", "The user lived in {place} for a few years."),
    ("summary", "The user often feels {feeling} about {project}."),
)


def _slots(rng: random.Random) -> dict[str, str]:
    time = rng.choice(TIMES)
    food, food2 = rng.sample(FOODS, 2)
    return {
        "activity": rng.choice(ACTIVITIES),
        "relation": rng.choice(RELATIONS),
        "name": rng.choice(NAMES),
        "petname": rng.choice(NAMES),
        "pet": rng.choice(PETS),
        "pet_action": rng.choice(PET_ACTIONS),
        "job": rng.choice(JOBS),
        "place": rng.choice(PLACES),
        "month": rng.choice(MONTHS),
        "food": food,
        "food2": food2,
        "feeling": rng.choice(FEELINGS),
        "adj": rng.choice(ADJECTIVES),
        "time": time,
        "time_lower": time,
        "thing": rng.choice(THINGS),
        "project": rng.choice(PROJECTS),
    }


def _fill(template: str, rng: random.Random) -> str:
    text = template.format(**_slots(rng))
    return text[0].upper() + text[1:]


class Corpus:
    """Pools of generated sentences, and messages and memories drawn from them."""

    def __init__(self, seed: int, *, user_pool: int = 40_000, assistant_pool: int = 25_000) -> None:
        rng = random.Random(seed)
        self.user_sentences = [_fill(rng.choice(USER_TEMPLATES), rng) for _ in range(user_pool)]
        self.assistant_sentences = [
            _fill(rng.choice(ASSISTANT_TEMPLATES), rng) for _ in range(assistant_pool)
        ]

    def user_message(self, rng: random.Random) -> str:
        """Return one to three user sentences."""
        count = rng.choices((1, 2, 3), weights=(5, 3, 1))[0]
        return " ".join(rng.choice(self.user_sentences) for _ in range(count))

    def assistant_message(self, rng: random.Random) -> str:
        """Return one or two assistant sentences."""
        count = rng.choices((1, 2), weights=(2, 1))[0]
        return " ".join(rng.choice(self.assistant_sentences) for _ in range(count))


def memory_text(rng: random.Random) -> tuple[str, str]:
    """Return a (kind, content) memory about the user."""
    kind, template = rng.choice(MEMORY_TEMPLATES)
    return kind, _fill(template, rng)


def search_query(rng: random.Random) -> str:
    """Return a short search a user might type into the memory search box."""
    slots = _slots(rng)
    return rng.choice(
        (
            "my {pet}",
            "trip to {place}",
            "{relation} {name}",
            "{activity}",
            "{food} dinner",
            "scared of {thing}",
            "job as a {job}",
            "{project}",
            "{place} in {month}",
        )
    ).format(**slots)
