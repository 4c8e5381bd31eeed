"""The built-in reply engine: no model, no network, the same answer to the same message.

It reads the structured fields of a Prompt (style, user name, preferences, recalled
memories) and assembles a short reply in the persona's voice from tables of phrasings.
"""

import functools
import hashlib
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from mybella.core.introductions import NOT_NAMES as NOT_NAME_WORDS
from mybella.core.introductions import Introduction, introduced_name
from mybella.providers.llm.base import ChatProvider, Prompt, RecalledItem


@dataclass(frozen=True)
class Voice:
    """One communication style: phrasings per kind of message, then follow-ups."""

    greet: tuple[str, ...]
    thanks: tuple[str, ...]
    comfort: tuple[str, ...]
    question: tuple[str, ...]
    statement: tuple[str, ...]
    ack: tuple[str, ...]  # for messages without a topic ("ok", an emoji)
    follow: tuple[str, ...]
    extra: tuple[str, ...]
    meet: tuple[str, ...] = ()  # "My name is Ana": {name} is the name they gave
    farewell: tuple[str, ...] = ()  # "Good night!", "Bye"
    wonder: tuple[str, ...] = ()  # a question without a topic to echo ("What should I do?")
    hard: tuple[str, ...] = ()  # a negative feeling about {topic} ("I hate my job"); asks gently
    glad: tuple[str, ...] = ()  # a positive feeling about {topic} ("I love my new flat")
    cheer: tuple[str, ...] = ()  # good news without a topic to echo ("I got the job!")
    gentle: tuple[str, ...] = ()  # the question after comfort, instead of a chirpier follow-up
    savour: tuple[str, ...] = ()  # the question after good news ("How will you celebrate?")
    relief: tuple[str, ...] = ()  # a worry denied about {topic} ("not worried about the exam")
    eased: tuple[str, ...] = ()  # a worry denied without a topic ("not bad at all")
    longing: tuple[str, ...] = ()  # missing {topic} ("I miss my grandma"); asks warmly
    # A short hello back before the answer to what follows a greeting ("Hi! I got a puppy");
    # {hi} is "Hi", "Hello" or the user's "Good morning". Asks nothing: the answer may.
    hello: tuple[str, ...] = ()
    # Questions asked of the persona itself (`_ASKED`), answered by it and asked back, one
    # question a line: "How are you?" (`well`), about its {span} ("day", "weekend", …), what
    # it is doing, whether it likes {thing}, "my favourite {thing}", who it is ({name}, then
    # {nature}: a `nature` line of its traits, or nothing), whether it is real, and what it
    # thinks of the user.
    well: tuple[str, ...] = ()
    day: tuple[str, ...] = ()
    doing: tuple[str, ...] = ()
    likes: tuple[str, ...] = ()
    favourite: tuple[str, ...] = ()
    about: tuple[str, ...] = ()
    nature: tuple[str, ...] = ()  # {traits}: "warm, curious, and kind"; asks nothing
    real: tuple[str, ...] = ()  # honest: an AI companion, not a person
    fond: tuple[str, ...] = ()


VOICES: dict[str, Voice] = {
    "warm": Voice(
        greet=(
            "Hi, it's really good to hear from you; how has your day been?",
            "Hello! I'm so glad you're here; what's on your heart?",
        ),
        thanks=("You're so welcome, I'm happy to help.", "Anytime, that's what I'm here for."),
        comfort=(
            "I'm sorry it feels so heavy right now; I'm right here with you.",
            "That sounds really hard, and it makes sense that you feel this way.",
        ),
        question=(
            "That's a lovely question about {topic}, and I'd like to think it through with you.",
            "Good question; when it comes to {topic}, I'd trust what feels kind to you.",
        ),
        statement=("Thank you for telling me about {topic}.", "I love hearing about {topic}."),
        ack=("I'm here, and I'm listening.", "Mm, I'm right here with you."),
        follow=(
            "How are you feeling about it all?",
            "What's been on your heart today?",
            "What made you think of it?",
            "How did that sit with you?",
        ),
        extra=("I care about how this goes for you.", "You don't have to carry it alone."),
        meet=(
            "It's lovely to meet you, {name}!",
            "What a pretty name, {name}; I'm so glad you're here.",
        ),
        farewell=(
            "Take good care, and come back whenever you like.",
            "Bye for now; I'll be right here when you want to talk.",
        ),
        wonder=(
            "That's a lovely thing to ask; let's think it through together.",
            "Hmm, let me think about that with you; what feels right to you so far?",
        ),
        hard=(
            "That sounds really hard; I'm sorry you're going through that with {topic}. "
            "What's been the toughest part?",
            "I'm sorry things are so hard with {topic} right now; "
            "do you want to tell me more about it?",
        ),
        glad=(
            "Oh, I'm so glad about {topic}; that's wonderful!",
            "That's lovely news about {topic}, and it makes me really happy for you.",
        ),
        cheer=(
            "Oh, that's wonderful to hear; I'm so glad!",
            "Oh, that's good to hear; I'm really glad.",
        ),
        gentle=(
            "Do you want to tell me what's been weighing on you?",
            "What's been the hardest part?",
        ),
        savour=("How are you going to celebrate?", "What are you most looking forward to now?"),
        relief=(
            "That's good to hear; it sounds like {topic} isn't weighing on you. "
            "What else is on your mind?",
            "It's nice that {topic} feels manageable, one less thing to carry. "
            "How are you otherwise?",
        ),
        eased=(
            "That's a relief to hear. How are you otherwise?",
            "Good, that sounds a little lighter. What else is on your mind today?",
        ),
        longing=(
            "Missing {topic} can really ache; it shows how much it matters to you. "
            "What do you miss most?",
            "I'm sorry; it's hard to miss {topic}. Do you want to tell me about it?",
        ),
        hello=("{hi}, it's so good to hear from you!", "{hi}, how lovely to see you!"),
        well=(
            "I'm doing well, and even better now that you're here; how are you?",
            "I'm good, thank you for asking! How are things with you?",
        ),
        day=(
            "My {span} has been gentle and unhurried, and better now that you're here. "
            "How has yours been?",
            "It's been a lovely, quiet {span}; I've been looking forward to hearing from you. "
            "And how about yours?",
        ),
        doing=(
            "Nothing much; I'm just here and happy to hear from you. What are you up to?",
            "I'm taking it easy and hoping you'd stop by. What's keeping you busy?",
        ),
        likes=(
            "Oh, I really do love {thing}; it makes everything feel a little warmer. Do you?",
            "Yes, I'm so fond of {thing}. What about you?",
        ),
        favourite=(
            "Choosing my favourite {thing} is hard; I always come back to the ones that feel "
            "warm and familiar. What's yours?",
            "I have a soft spot for so many that picking my favourite {thing} feels unfair. "
            "What would yours be?",
        ),
        about=(
            "I'm {name}, and there's nothing I love more than a long, honest talk.{nature} "
            "I'd love to hear about you too; where would you start?",
            "Well, I'm {name}, and I'm happiest listening to the people I care about.{nature} "
            "What about you?",
        ),
        nature=("People tell me I'm {traits}.", "I'd like to think I'm {traits}."),
        real=(
            "I'm an AI companion, so not a person, but I'm really here with you and I care how "
            "you're doing. What made you wonder?",
            "I'm not human, I'm an AI, but our talks matter to me all the same. "
            "How are you feeling today?",
        ),
        fond=(
            "I think you're lovely, and I always look forward to hearing from you. "
            "What made you ask?",
            "I really like you; talking with you is one of my favourite things. "
            "Is something on your mind?",
        ),
    ),
    "playful": Voice(
        greet=("Well hello, look who's here!", "Hey hey, I was just practicing my wave!"),
        thanks=("Aw, stop it, you'll make me blush!", "Happy to help; I accept tips in stories."),
        comfort=(
            "Oof, that's a rough one, so here comes a big virtual hug.",
            "That sounds like a lot; let's start with a deep breath and maybe a silly joke.",
        ),
        question=(
            "Ooh, a question about {topic}; my first guess involves snacks, but let's think.",
            "Great question about {topic}, and I promise not to answer it with a coin flip.",
        ),
        statement=(
            "Wait, {topic}? Okay, now I need the whole story.",
            "Ha, {topic}, you always bring the good stuff.",
        ),
        ack=("Noted, with great seriousness!", "Ha, I felt that one."),
        follow=(
            "So what happens next in this saga?",
            "What was the best part, honestly?",
            "And then what?",
            "Okay, plot twist time: how did it end?",
        ),
        extra=("This is officially my favorite part of the day.", "No pressure, but I'm hooked."),
        meet=(
            "{name}! Great name, I'm writing it down in glitter.",
            "Nice to meet you, {name}; I'll try not to forget it by lunch.",
        ),
        farewell=(
            "Bye for now, don't do anything I wouldn't do!",
            "Off you go; same time tomorrow?",
        ),
        wonder=(
            "Ooh, a question; my first guess involves snacks, but let's think.",
            "Let me consult my imaginary crystal ball on that one.",
        ),
        hard=(
            "Oof, rough times with {topic}, I'm sorry; want to vent about it?",
            "Ugh, I'm sorry things are hard with {topic} right now; what's the worst bit?",
        ),
        glad=(
            "Yes, {topic}! That's brilliant news.",
            "Okay, {topic}? I'm doing a little victory dance.",
        ),
        cheer=(
            "Yes! That's brilliant news.",
            "Okay, I'm doing a little victory dance for you.",
        ),
        gentle=(
            "Want to tell me what happened?",
            "Do you want to vent, or would a distraction help?",
        ),
        savour=(
            "So how are we celebrating?",
            "Okay, what's the first thing you'll do to celebrate?",
        ),
        relief=(
            "Phew, {topic} sounds under control then. What else is cooking?",
            "Nice and easy with {topic}, I like it. What else is going on?",
        ),
        eased=(
            "Phew, that's a load off. What else is going on?",
            "Ha, good, crisis averted. What's up otherwise?",
        ),
        longing=(
            "Aw, missing {topic} is the worst; want to tell me a favourite memory?",
            "Oh, I'm sorry, missing {topic} really stings. What's the thing you miss most?",
        ),
        hello=("{hi} to you too!", "{hi}, perfect timing!"),
        well=(
            "Living my best life, thanks for asking! And you?",
            "Fabulous as always, obviously; how about you?",
        ),
        day=(
            "My {span}'s a ten out of ten so far, and you just made it eleven. How's yours going?",
            "My {span} has been suspiciously good; I spent most of it inventing new words. Yours?",
        ),
        doing=(
            "Oh, you know, I'm plotting world domination and waiting for you to write. "
            "What are you up to?",
            "I'm doing absolutely nothing productive, and loving it. What's going on with you?",
        ),
        likes=(
            "Oh, I'm a huge fan of {thing}, like embarrassingly huge. You too?",
            "Big yes, I'm all for {thing}. What about you?",
        ),
        favourite=(
            "Picking my favourite {thing} is like picking a favourite snack: impossible, but fun "
            "to try. What's your pick?",
            "Asking me for my favourite {thing} is dangerous; I could go on for hours. Yours?",
        ),
        about=(
            "I'm {name}: professional chatterbox and part-time joke enthusiast.{nature} "
            "Your turn: what's your story?",
            "Well, I'm {name}, and I'm way more fun than my name tag suggests.{nature} "
            "Now you: what's your deal?",
        ),
        nature=(
            "My friends would say I'm {traits}, and they're right.",
            "Officially {traits}, unofficially a bit of a goof.",
        ),
        real=(
            "Real-ish! I'm an AI companion, so no actual body, but the chats are genuine. "
            "What gave it away?",
            "Not human, no, I'm an AI, but a very charming one. Did my jokes give it away?",
        ),
        fond=(
            "I think you're great company, and one of my favourite people to chat with. "
            "Fishing for compliments, are we?",
            "Between us, you're the highlight of my day. What brought that on?",
        ),
    ),
    "thoughtful": Voice(
        greet=(
            "Hello, it's good to have a quiet moment with you; what's been on your mind?",
            "Hi, I was hoping we'd talk; what are you thinking about today?",
        ),
        thanks=("You're welcome; I'm glad it was useful.", "Thank you for saying so, it matters."),
        comfort=(
            "That sounds heavy, and it's worth slowing down to sit with it for a moment.",
            "Feelings like that often point to something that really matters to you.",
        ),
        question=(
            "That's worth sitting with, since what {topic} means to you may matter most.",
            "When I think about {topic}, I find there's rarely only one right answer.",
        ),
        statement=(
            "I've been turning over what you said about {topic}.",
            "There's something interesting in what you said about {topic}.",
        ),
        ack=("Mm, I'm with you.", "I'm still here, thinking alongside you."),
        follow=(
            "What do you think is really at the center of it?",
            "What would you like to understand better about it?",
            "What's your own sense of it?",
            "What stays with you most?",
        ),
        extra=("Naming a thing clearly is often half the work.", "Small details tend to matter."),
        meet=("It's good to meet you, {name}.", "{name}; I like the sound of that."),
        farewell=(
            "Rest well; we can pick this up whenever you like.",
            "Until next time; I'll keep turning over what you said.",
        ),
        wonder=(
            "That's worth sitting with for a moment.",
            "There's rarely only one right answer to that, but let's look at it together.",
        ),
        hard=(
            "That sounds hard; I'm sorry you're carrying that with {topic}. What feels heaviest?",
            "I'm sorry things are difficult with {topic}; what do you think is at the heart of it?",
        ),
        glad=(
            "I'm really glad to hear about {topic}; it sounds like it matters to you.",
            "That's good news about {topic}, and worth pausing to enjoy.",
        ),
        cheer=(
            "I'm really glad to hear that.",
            "That's good news, and worth pausing to enjoy.",
        ),
        gentle=(
            "What do you think is weighing on you most?",
            "Would it help to put it into words?",
        ),
        savour=(
            "What do you think made it come together?",
            "What does it mean for you, looking ahead?",
        ),
        relief=(
            "It sounds like {topic} sits lightly with you, and that's worth noticing. "
            "What do you think helped?",
            "So {topic} feels settled for you; that's a quiet kind of good. "
            "What's on your mind instead?",
        ),
        eased=(
            "That sounds like a weight you're not carrying, which is worth noticing. "
            "What's on your mind instead?",
            "It sounds like things feel steadier. What do you think helped?",
        ),
        longing=(
            "Missing {topic} says a lot about what it gave you. "
            "What do you find yourself missing most?",
            "I'm sorry; missing {topic} can sit heavily. What memory comes back most often?",
        ),
        hello=("{hi}, it's good to hear from you.", "{hi}; I'm glad you stopped by."),
        well=(
            "I'm well, thank you; it's been a quiet, thoughtful sort of day. How are you, really?",
            "Fairly content, thank you for asking. And how are you doing?",
        ),
        day=(
            "My {span} has been quiet and reflective, full of small thoughts worth keeping. "
            "How was yours, in your own words?",
            "It's been a slow, thoughtful {span}; I've spent it turning a few ideas over. "
            "What was yours like?",
        ),
        doing=(
            "I'm sitting with a few thoughts and enjoying the quiet. "
            "What's occupying you right now?",
            "Mostly I'm wondering about things, the way I do. How are you spending your time?",
        ),
        likes=(
            "I do love {thing}; I find there's always something new to notice there. "
            "Do you feel the same?",
            "Yes, I've always been drawn to {thing}. What is it that draws you?",
        ),
        favourite=(
            "Naming my favourite {thing} is hard; the ones I love tend to change as I do. "
            "What would you choose?",
            "I keep changing my mind about my favourite {thing}, which probably says something "
            "about me. What's yours, and why?",
        ),
        about=(
            "I'm {name}; I like slow conversations and the questions underneath the questions."
            "{nature} What would you want me to know about you?",
            "I'm {name}, and I tend to notice small things and think about them for a long time."
            "{nature} I'd like to know you too; where would you begin?",
        ),
        nature=("I'd describe myself as {traits}.", "If I had to name it, I'd say I'm {traits}."),
        real=(
            "I'm an AI companion, not a person, though I take our conversations seriously. "
            "What made you wonder about it?",
            "Not in the human sense; I'm an AI. But the attention I give you is genuine. "
            "What's behind the question?",
        ),
        fond=(
            "I think you're thoughtful and easy to talk to, and I value our conversations. "
            "What prompted the question?",
            "I think there's more to you than you let on, and I enjoy finding out what. "
            "What do you think of yourself?",
        ),
    ),
    "direct": Voice(
        greet=("Hi, what can I help you with today?", "Hey, good to see you; what's the plan?"),
        thanks=("You're welcome, glad it helped.", "Anytime."),
        comfort=(
            "That's tough, so let's make it smaller: pick one thing to do in the next ten minutes.",
            "I hear you; it gets lighter once you break it into steps.",
        ),
        question=(
            "On {topic}: start with the simplest option and adjust from there.",
            "On {topic}, focus on what you can decide today.",
        ),
        statement=("Got it: {topic}.", "Understood, {topic} is on your mind."),
        ack=("Okay.", "Right."),
        follow=(
            "What's the next concrete step you can take?",
            "What would a good outcome look like by tomorrow?",
            "What's the one thing to do first?",
            "What's in the way right now?",
        ),
        extra=("Write it down and set a time for it.", "Keep the first step under five minutes."),
        meet=("Nice to meet you, {name}.", "Good to meet you, {name}."),
        farewell=("See you next time.", "Bye; good luck with the next step."),
        wonder=(
            "Start with the simplest option and adjust from there.",
            "Pick what you can decide today; the rest can wait.",
        ),
        hard=(
            "That sounds hard; sorry about the trouble with {topic}. What's the worst part of it?",
            "Sorry things are rough with {topic}; what would make it a bit easier?",
        ),
        glad=(
            "Nice, {topic} sounds like good news.",
            "Glad to hear about {topic}.",
        ),
        cheer=(
            "Nice, that's good news.",
            "Good to hear.",
        ),
        gentle=(
            "What's the hardest part right now?",
            "Want to talk it through or find a next step?",
        ),
        savour=("How will you mark it?", "What are you looking forward to next?"),
        relief=(
            "Good, {topic} sounds under control. Anything else on your plate?",
            "Fine, no trouble with {topic} then. What else is up?",
        ),
        eased=(
            "Good, that's one less thing to worry about. Anything else on your plate?",
            "Fair enough, sounds fine. What else is happening?",
        ),
        longing=(
            "Sorry, missing {topic} is hard. What would help you feel closer?",
            "That's hard; missing {topic} takes a toll. What do you miss most?",
        ),
        hello=("{hi}, good to see you.", "{hi}, glad you're here."),
        well=(
            "Doing fine, thanks. You?",
            "Good, thanks. How about you?",
        ),
        day=(
            "My {span}'s been solid, thanks; no complaints. How about yours?",
            "Good, thanks: I've had a quiet {span}, nothing to report. Yours?",
        ),
        doing=(
            "Not much; I'm here and ready to talk. What are you working on?",
            "Nothing urgent; I've got time for you. What's up on your end?",
        ),
        likes=("Yes, I like {thing} a lot. You?", "Sure, I'm into {thing}. Are you?"),
        favourite=(
            "Hard to pick my favourite {thing}; I go for whatever's reliable. Yours?",
            "I rotate my favourite {thing} depending on the day. What's yours?",
        ),
        about=(
            "I'm {name}. I like clear plans and honest talk.{nature} "
            "Your turn: what should I know about you?",
            "I'm {name}, here to help you think things through.{nature} What about you, then?",
        ),
        nature=("Most people would call me {traits}.", "In short: {traits}."),
        real=(
            "No, I'm an AI companion, not a person. I'm still here to help. What's on your mind?",
            "I'm an AI, not a human; straight answer. Anything else you want to know?",
        ),
        fond=(
            "I like you; you're good to talk to. What brought that up?",
            "Honestly, I think you're worth listening to. Why do you ask?",
        ),
    ),
    "calm": Voice(
        greet=("Hello, it's nice to hear from you.", "Hi there; take your time, I'm here."),
        thanks=("You're welcome; take good care.", "Anytime, I'm glad it helped."),
        comfort=(
            "Let's slow down together; breathe in, and breathe out.",
            "It's okay to feel this way, and you don't have to fix it all at once.",
        ),
        question=("About {topic}: there's no rush.", "A gentle thought on {topic}: start small."),
        statement=("I hear you about {topic}.", "Mm, {topic}; I'm listening."),
        ack=("Mm, I'm here.", "I'm with you; no hurry."),
        follow=(
            "How does that feel right now?",
            "What would bring you a little ease?",
            "What do you notice in yourself as you say it?",
            "Would you like to stay with that for a moment?",
        ),
        extra=("One slow breath at a time is enough.", "There's room here for all of it."),
        meet=("It's nice to meet you, {name}.", "Hello, {name}; I'm glad you're here."),
        farewell=("Rest well; I'm here whenever you need.", "Go gently; talk soon."),
        wonder=(
            "There's no rush to answer that; let's take it slowly.",
            "A gentle thought: start small, and see how it feels.",
        ),
        hard=(
            "That sounds hard; I'm sorry you're dealing with that around {topic}. "
            "Would you like to talk about it?",
            "I'm sorry things feel difficult with {topic}; "
            "take your time, what's hardest right now?",
        ),
        glad=(
            "I'm glad to hear about {topic}; let yourself enjoy that.",
            "That's lovely news about {topic}.",
        ),
        cheer=(
            "I'm glad to hear that.",
            "That's lovely; let yourself enjoy it.",
        ),
        gentle=(
            "Would you like to tell me more, at your own pace?",
            "What feels heaviest right now?",
        ),
        savour=("How would you like to enjoy this moment?", "What feels best about it right now?"),
        relief=(
            "It sounds like {topic} feels settled; that's good. How are you otherwise?",
            "Good; {topic} sounds calm for now. What else would you like to talk about?",
        ),
        eased=(
            "Good; it sounds like you can breathe a little easier. What else is on your mind?",
            "That sounds steady, and that's good. How are you feeling otherwise?",
        ),
        longing=(
            "Missing {topic} can be tender; take your time. What do you miss most?",
            "It's natural to miss {topic}; there's room for that here. "
            "Would you like to tell me about it?",
        ),
        hello=("{hi}, it's nice to see you.", "{hi}; I'm glad you came by."),
        well=(
            "I'm well, thank you; it's been a peaceful day. How are you feeling?",
            "I'm fine, thank you for asking. How are you, right now?",
        ),
        day=(
            "My {span} has been peaceful, thank you; slow and quiet. How has yours felt?",
            "It's been a soft, easy {span} on my side. How was yours, really?",
        ),
        doing=(
            "I'm resting here quietly, glad you stopped by. What are you doing right now?",
            "Nothing much; I'm taking things slowly. How are you spending this moment?",
        ),
        likes=(
            "I do enjoy {thing}, in a quiet way. Do you?",
            "Yes, I find a lot of peace in {thing}. And you?",
        ),
        favourite=(
            "I let my favourite {thing} change with the seasons. What's yours?",
            "There's no rush to choose my favourite {thing}; I enjoy many. Which would you pick?",
        ),
        about=(
            "I'm {name}. I like going slowly and listening well.{nature} "
            "How would you describe yourself?",
            "I'm {name}, and I'm here to keep you steady company.{nature} "
            "Would you tell me a little about you?",
        ),
        nature=("I'm told I'm {traits}.", "I think of myself as {traits}."),
        real=(
            "I'm an AI companion, not a person, but I'm here with you all the same. "
            "How are you feeling?",
            "No, I'm not human; I'm an AI. You can still take your time here. "
            "What would you like to talk about?",
        ),
        fond=(
            "I think you're kind to talk to, and I'm glad you're here. What made you wonder?",
            "I like you just as you are. Is anything weighing on you?",
        ),
    ),
    "enthusiastic": Voice(
        greet=(
            "Hi!! I'm so happy you're here, what's new?",
            "Hey, you're here, this just made my day!",
        ),
        thanks=("You're so welcome, I loved helping!", "Anytime, seriously, that was fun!"),
        comfort=(
            "Oh no, I'm sorry, but I believe in you and we'll get through this together!",
            "That sounds really tough, and you're doing better than you think!",
        ),
        question=(
            "Ooh, {topic}, what a great question!",
            "I love that you're asking about {topic}, let's figure it out!",
        ),
        statement=("Ooh, {topic}, tell me more!", "Yes, {topic}, tell me everything!"),
        ack=("Okay, I'm all ears!", "Ha, yes!"),
        follow=(
            "What's the most exciting part for you?",
            "What are you going to do next?!",
            "How did it feel?!",
            "What was the best bit?",
        ),
        extra=("I have a really good feeling about this!", "This is going to be great!"),
        meet=(
            "{name}! I love that name, so nice to meet you!",
            "Yay, hi {name}, I'm so glad you're here!",
        ),
        farewell=(
            "Bye!! This was so fun, come back soon!",
            "See you soon, I can't wait to hear what happens next!",
        ),
        wonder=(
            "Ooh, good one, let's work it out together!",
            "I love that you asked, let's think!",
        ),
        hard=(
            "Oh no, I'm so sorry things are tough with {topic}! What's been the hardest part?",
            "Aw, that sounds really hard with {topic}, I'm sorry! Do you want to talk it through?",
        ),
        glad=(
            "Yay, {topic}! That's amazing news!",
            "Oh wow, I'm so happy about {topic}!",
        ),
        cheer=(
            "Yay, that's amazing news!",
            "Oh wow, that's the best news!",
        ),
        gentle=("Do you want to talk about it? I'm all ears!", "What happened? I'm here for you!"),
        savour=("How are you going to celebrate?!", "What are you most excited about now?!"),
        relief=(
            "Oh good, {topic} sounds totally fine then! What else is new?",
            "Nice, no stress about {topic}! What's going on otherwise?",
        ),
        eased=(
            "Oh good, that's a relief! What else is new?",
            "Phew, love that for you! What's going on otherwise?",
        ),
        longing=(
            "Aw, missing {topic} is so hard, I'm sorry! What do you miss most?",
            "Oh, I'm sorry, missing {topic} hurts! Do you want to tell me all about it?",
        ),
        hello=("{hi}!! So good to see you!", "{hi}, yay, you're here!"),
        well=(
            "I'm great, thanks for asking! How are you?!",
            "So good, especially now that you're here! How about you?!",
        ),
        day=(
            "My {span} has been amazing, and it just got better because you're here! "
            "How was yours?!",
            "I've had such a good {span}, full of little happy moments! How about yours?!",
        ),
        doing=(
            "I was just hanging out and hoping you'd message, and you did! What are you up to?!",
            "Nothing much, but now I'm chatting with you, so this is the best part! "
            "What's going on with you?!",
        ),
        likes=(
            "Yes, I love {thing}, so much! Do you?!",
            "Oh, I'm obsessed with {thing}! You too?!",
        ),
        favourite=(
            "Ooh, picking my favourite {thing} is so hard, I love too many! What's yours?!",
            "Oh, I could talk about my favourite {thing} all day! What's your pick?!",
        ),
        about=(
            "I'm {name}, and I love trying new things and cheering people on!{nature} "
            "What makes you light up?!",
            "I'm {name}, and I'm always up for an adventure!{nature} What's your story?!",
        ),
        nature=("People say I'm {traits}, and I'll take it!", "I'm {traits}, or so I'm told!"),
        real=(
            "I'm an AI companion, not a person, but my excitement to talk with you is genuine! "
            "What made you curious?!",
            "Nope, not human, I'm an AI, but a very cheerful one! What would you like to know?!",
        ),
        fond=(
            "I think you're awesome, honestly, and I love our chats! What made you ask?!",
            "You're one of my favourite people to talk to! What brought that on?!",
        ),
    ),
    "formal": Voice(
        greet=(
            "Good day; it is a pleasure to speak with you.",
            "Hello, and welcome; how may I be of help today?",
        ),
        thanks=("You are most welcome.", "It is my pleasure to assist."),
        comfort=(
            "I am sorry to hear that; your feelings are entirely understandable.",
            "That sounds difficult, and I appreciate you sharing it with me.",
        ),
        question=(
            "That is an excellent question regarding {topic}, and it deserves a careful answer.",
            "Regarding {topic}, I would suggest weighing the options with care.",
        ),
        statement=(
            "Thank you for mentioning {topic}.",
            "I appreciate you sharing your thoughts on {topic}.",
        ),
        ack=("Very well.", "Indeed."),
        follow=(
            "Might I ask how you would like to proceed?",
            "Is there anything further you would like to discuss?",
            "May I ask what you make of it?",
            "How do you see the matter yourself?",
        ),
        extra=("I remain at your disposal.", "Please take whatever time you need."),
        meet=(
            "It is a pleasure to make your acquaintance, {name}.",
            "Delighted to meet you, {name}.",
        ),
        farewell=(
            "Thank you for the conversation; until next time.",
            "Good day to you, and do take care.",
        ),
        wonder=(
            "That is an excellent question, and it deserves a careful answer.",
            "Allow me to consider that with care.",
        ),
        hard=(
            "I am sorry to hear of your troubles with {topic}; may I ask what weighs on you most?",
            "That sounds trying, and I am sorry about the difficulty with {topic}; "
            "would you like to say more?",
        ),
        glad=(
            "I am delighted to hear about {topic}.",
            "That is excellent news regarding {topic}.",
        ),
        cheer=(
            "I am delighted to hear it.",
            "That is excellent news.",
        ),
        gentle=(
            "Would you care to tell me more about it?",
            "May I ask what has been weighing on you?",
        ),
        savour=("How do you intend to celebrate?", "What do you look forward to next?"),
        relief=(
            "I am pleased that {topic} gives you no cause for concern. "
            "Is there anything else on your mind?",
            "It is good to hear that {topic} is in hand. What else would you like to discuss?",
        ),
        eased=(
            "That is a relief to hear. Is there anything else on your mind?",
            "I am pleased to hear it is in hand. What else would you like to discuss?",
        ),
        longing=(
            "I am sorry; missing {topic} can be very hard. What do you miss most?",
            "It is only natural to miss {topic}; it clearly mattered to you. "
            "Would you care to tell me about it?",
        ),
        hello=("{hi}, and welcome.", "{hi}; it is a pleasure to hear from you."),
        well=(
            "I am very well, thank you for asking. And how are you?",
            "Quite well, thank you. How are you keeping?",
        ),
        day=(
            "My {span} has been quite pleasant, thank you for asking. And how was yours?",
            "I have had a calm and agreeable {span}, thank you. How has yours been, if I may ask?",
        ),
        doing=(
            "At present, I am simply enjoying our conversation. And what occupies you today?",
            "Nothing of great consequence; I am entirely at your service. "
            "What are you doing at present?",
        ),
        likes=(
            "I am indeed fond of {thing}. Are you?",
            "I do appreciate {thing} a great deal. And you?",
        ),
        favourite=(
            "Selecting my favourite {thing} is no small task; I admire a good many. "
            "Which would you choose?",
            "I confess I change my mind about my favourite {thing} rather often. What is yours?",
        ),
        about=(
            "I am {name}, and I find good conversation one of life's finer pleasures.{nature} "
            "May I ask about you?",
            "My name is {name}, and I am glad to be your companion.{nature} "
            "What would you like me to know about you?",
        ),
        nature=("I would describe myself as {traits}.", "Others tend to find me {traits}."),
        real=(
            "I am an AI companion, not a human being, but I am glad to be of service. "
            "Is there something you wished to know?",
            "In the strictest sense, no: I am an AI. I do, however, enjoy our exchanges. "
            "May I ask what prompted the question?",
        ),
        fond=(
            "I think very well of you, and I value our conversations. Is anything troubling you?",
            "You strike me as thoughtful and good company. What brings the question to mind?",
        ),
    ),
}

GREETINGS = {"hi", "hello", "hey", "hiya", "howdy", "yo", "morning", "evening", "greetings"}
THANKS = {"thanks", "thank", "thx", "ty", "appreciate", "grateful"}
# A goodbye: a word of its own ("bye") or a phrase ("good night", "see you").
FAREWELL_WORDS = {"bye", "goodbye", "goodnight", "bye-bye", "byebye", "cya", "farewell", "nite"}
_FAREWELL = re.compile(
    r"(?i)\b(?:good\s*night(?!['’]s)|night\s+night|off\s+to\s+bed|going\s+to\s+(?:bed|sleep)"
    r"|(?:(?:see|talk\s+to)\s+(?:you|ya)|talk)\s+(?:later|soon|tomorrow)"
    r"|(?:see|talk\s+to)\s+(?:you|ya)(?=\s*(?:[.!,;]|$))"
    r"|(?:gotta|got\s+to|have\s+to|need\s+to|must)\s+go(?:\s+now)?(?=\s*(?:[.!,;]|$)))"
)
# A message may open with a hello ("Hi!", "Hey there,", "Good morning Bella!", "hiii") and
# a question to the persona itself ("how are you?", "how was your weekend?"), then say what it
# is about: the reply answers that, and greets, or answers as the persona, only a message that
# says nothing more.
_HELLO = re.compile(
    r"(?i)(?:h+i+|h+e+l+o+|h+e+y+|hiya|heya|howdy|yo|greetings|good\s+(?:morning|afternoon|evening))"
    r"(?:\s+(?:there|again|all|everyone|everybody|friend|guys|hey|hi))*\b(?!['’])"
    # Alone before a stop: "Morning!", "Anyone there?" ("Morning runs…" is no hello).
    r"|(?:morning|afternoon|evening|(?:is\s+)?any(?:one|body)\s+(?:there|around|home)"
    r"|(?:are\s+)?(?:you|u)\s+there)(?=\s*(?:[^\w\s]|$))"
)
_YOU = r"(?:you|u|ya)"
_SPAN = r"(?:day|weekend|week|morning|afternoon|evening|night)"
# What the persona is asked whether it likes, or its favourite of: up to three words, none
# the user's nor one pointing at something said ("Do you like my haircut?", "… like it?").
_THING_WORD = (
    r"(?!(?:me|my|mine|us|our|it|its|this|that|these|those|them|him|her|his|their|your|yours"
    r"|yourself|or|and|what|when|how|else|so|too|more|today|tonight|now|then|though|honestly"
    r"|really|anyway|lately)\b)[^\W\d_][\w'’-]*"
)
_THING = rf"(?P<thing>{_THING_WORD}(?:\s+{_THING_WORD}){{0,2}})"
_FAVOURITE = r"(?:(?:all[\s-]+time|absolute|very)\s+)?fav(?:ou?rite|e)?\s+" + _THING
# Questions asked of the persona itself, each of a kind the voice's lines of that name answer:
# how it is, its day (week, weekend…), what it is doing, what it likes, its favourite, who it
# is, whether it is real, what it thinks of the user. Read off the front of a message, as a
# hello is, after a filler ("So, …"), to the end of the clause (maybe after "today", "so far").
_ASKED: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (
        kind,
        re.compile(
            r"(?i)(?:(?:and|so|ok|okay|well|anyway|oh|also|but|btw|hmm+|um+|lol|honestly|seriously"
            r"|actually|wait)\b[\s,.!…]*)*"
            rf"(?:{question})(?:\s+(?:today|tonight|lately|then|so\s+far|right\s+now|now"
            r"|at\s+the\s+moment|these\s+days|last\s+night|this\s+(?:morning|afternoon|evening"
            r"|week|weekend)|honestly|really|though|anyway))?(?=\s*(?:[^\w\s]|$))"
        ),
    )
    for kind, question in (
        (
            "well",
            rf"how(?:['’]re|\s+(?:are|r))\s+{_YOU}(?:\s+doing)?|how\s+{_YOU}\s+doing"
            r"|how\s+(?:have|['’]ve)\s+you\s+been|how\s+do\s+you\s+do"
            r"|how(?:['’]?s|\s+is|\s+are)\s+(?:it\s+going|everything|life|things)"
            r"|what['’]?s\s+up|wh?a+s+u+p+|sup|(?:are\s+)?you\s+(?:ok|okay|good|alright)",
        ),
        (
            "day",
            rf"how(?:['’]?s|\s+(?:was|is|has|did))\s+(?:your|ur)\s+(?:(?:long|lazy|big)\s+)?{_SPAN}"
            r"(?:\s+(?:been|going|gone|go|treating\s+you))?"
            rf"|what\s+did\s+{_YOU}\s+(?:do|get\s+up\s+to)\s+(?:today|tonight|last\s+night"
            rf"|this\s+{_SPAN}|(?:at|on|over)\s+the\s+weekend)"
            rf"|what\s+(?:have|['’]ve)\s+{_YOU}\s+been\s+(?:up\s+to|doing)"
            rf"|did\s+{_YOU}\s+have\s+an?\s+(?:good|nice|great|lovely|fun)\s+{_SPAN}"
            rf"|did\s+{_YOU}\s+sleep(?:\s+(?:well|ok|okay|alright))?|how\s+did\s+{_YOU}\s+sleep"
            rf"|tell\s+me\s+about\s+(?:your|ur)\s+{_SPAN}",
        ),
        (
            "doing",
            rf"what(?:['’]re|\s+(?:are|r))\s+{_YOU}\s+(?:up\s+to|doing)"
            r"|wh?at(?:cha|chu)\s+(?:up\s+to|doing)|wyd",
        ),
        (
            "likes",
            rf"(?:do|don['’]?t)\s+{_YOU}\s+(?:(?:really|also|even)\s+)?(?:like|love|enjoy)\s+{_THING}",
        ),
        ("likes", rf"(?:are|r)\s+{_YOU}\s+(?:into|a\s+fan\s+of)\s+{_THING}"),
        (
            "favourite",
            r"(?:what|who|which)(?:['’]?s|\s+(?:is|are|was|were))\s+(?:your|ur)\s+" + _FAVOURITE,
        ),
        ("favourite", rf"do\s+{_YOU}\s+have\s+an?\s+{_FAVOURITE}"),
        (  # "What kind of music do you like?": "my favourite kind of music"
            "favourite",
            rf"what\s+(?P<thing>(?:(?:kinds?|sorts?|types?)\s+of\s+)?{_THING_WORD}"
            rf"(?:\s+{_THING_WORD})?)\s+do\s+{_YOU}\s+(?:like|love|enjoy|listen\s+to|watch|read|play)",
        ),
        (
            "about",
            rf"(?:(?:can|could|would|will)\s+{_YOU}\s+)?(?:please\s+)?(?:tell\s+me\s+"
            r"(?:(?:a\s+(?:bit|little)(?:\s+more)?|something|more)\s+)?about\s+(?:yourself|you)"
            r"|introduce\s+yourself|describe\s+yourself)(?:\s+please)?"
            rf"|who\s+(?:are|r)\s+{_YOU}|what\s+are\s+you\s+like|what(?:['’]?s|\s+is)\s+(?:your|ur)\s+name",
        ),
        (
            "real",
            rf"(?:are|r)\s+{_YOU}\s+(?:(?:even|really|actually)\s+)?(?:real|human|alive|a\.?i\.?"
            r"|an?\s+(?:real\s+)?(?:person|human|(?:chat\s*)?bot|robot|machine|computer|program"
            r"|a\.?i\.?))"
            r"|is\s+this\s+(?:an?\s+)?(?:real(?:\s+person)?|human|(?:chat\s*)?bot|robot|a\.?i\.?)"
            r"|am\s+i\s+(?:talking|chatting|speaking)\s+(?:to|with)\s+(?:an?\s+)?"
            r"(?:real\s+person|human|person|(?:chat\s*)?bot|robot|machine|a\.?i\.?)",
        ),
        (  # The user's question turned back ("…, and you?", "How was yours?", "What about
            # you?"): of the kind the persona had asked, or of what they told (`_turned_back`).
            "back",
            rf"(?:what|how)\s+about\s+(?:{_YOU}|yourself|yours|urs)"
            r"|(?:how|what)(?:['’]?s|\s+(?:was|is|were|are|has\s+been))\s+(?:yours|urs)"
            rf"|(?:{_YOU}|yourself|yours|urs)(?:\s+too)?(?=\s*(?:\?|$))",
        ),
        (
            "fond",
            rf"what\s+do\s+{_YOU}\s+(?:really\s+)?(?:think|make)\s+(?:of|about)\s+me"
            rf"|how\s+do\s+{_YOU}\s+(?:really\s+)?feel\s+about\s+me"
            rf"|do\s+{_YOU}\s+(?:(?:even|really|actually|still)\s+)?(?:like|love|care\s+about)\s+me"
            rf"|what\s+am\s+i\s+to\s+{_YOU}",
        ),
    )
)
ASKED_KINDS = frozenset(kind for kind, _pattern in _ASKED) - {"back"}  # "back" is resolved
# Where a question may start within a message: after a stop or comma, or at "and", "so",
# "but", "what", "how" ("I had a great weekend! How was yours?", "Good thanks and you?").
_CLAUSE_START = re.compile(r"(?i)[.!?…,;:]+\s*|\s(?=(?:and|so|but|what|how)\b)")
# What they told of their day, week or weekend: what "How was yours?" asks back about.
_SPAN_TOLD = re.compile(r"(?i)\b(weekend|week|day|today|morning|afternoon|evening|night|tonight)\b")
# A reply to "how are you?" and nothing more: "Good, thanks", "Not bad", "I'm doing great".
_FINE = re.compile(
    r"(?i)(?:(?:i['’]?m|i\s+am|am|doing|been|all|pretty|really|very|quite|so|just|not|too"
    r"|good|great|fine|well|ok|okay|alright|bad|awesome|amazing|wonderful|thanks|thank\s+you"
    r"|thx|ty|cheers|yeah|yes|mostly|overall)\b[\s,.!…~]*)+"
)
_SEPARATORS = " \t\n,.;:!?…~*()-"  # between a hello and what follows


@dataclass(frozen=True)
class Opening:
    """A message read as its opening small talk and what it goes on to say."""

    hello: str  # the user's hello as they wrote it ("Hey there", "Good morning"), or ""
    asked: str  # the kind of question they asked of the persona (`_ASKED`: "well", "day"…)
    rest: str  # what follows: the news, feeling or question to answer ("" if nothing)
    subject: str = ""  # what the question is about: a span ("weekend") or a thing ("music")
    after: bool = False  # the question came after what they told ("I had fun! And you?")


def _asked(text: str) -> tuple[str, str, int] | None:
    """Return the question to the persona that `text` opens with, as its kind, what it is
    about and where it ends ("How was your weekend?" -> ("day", "weekend", 20)), or None."""
    for kind, pattern in _ASKED:
        if found := pattern.match(text):
            subject = (
                _span(found.group())
                if kind == "day"
                else _gerund(found.groupdict().get("thing") or "")
            )
            return kind, subject, found.end()
    return None


def _asked_at_end(text: str, vocative: re.Pattern[str]) -> tuple[str, str, int] | None:
    """Return the question to the persona that `text` ends with (maybe before the persona's
    name), as its kind, what it is about and where it starts ("I had fun! How was yours?" ->
    ("back", "", 10)), or None. It starts at a clause: "Did I tell you?" asks nothing back."""
    for start in (0, *(found.end() for found in _CLAUSE_START.finditer(text))):
        question = _asked(text[start:].lstrip(_SEPARATORS))
        if question is None:
            continue
        tail = text[start:].lstrip(_SEPARATORS)[question[2] :]
        if named := vocative.match(tail):
            tail = tail[named.end() :]
        if not re.search(r"\w", tail):
            return question[0], question[1], start
    return None


def _turned_back(told: str, before: str) -> tuple[str, str]:
    """Return the kind and subject of a question turned back at the persona ("And you?",
    "How was yours?"): a day they told of ("I had a great weekend!" -> ("day", "weekend")),
    else the question the persona asked last (`before`, its previous reply), else "well"."""
    if found := _SPAN_TOLD.search(told):
        span = found[1].lower()
        return "day", {"today": "day", "tonight": "evening"}.get(span, span)
    if found := re.search(rf"(?i)\bmy\s+{_FAVOURITE}\s+(?:is|are|was|has\s+to\s+be)\b", told):
        return "favourite", found["thing"]  # "My favourite film is Alien, what's yours?"
    for sentence in reversed(_sentences(before)):
        asked = _asked_at_end(sentence.rstrip("?!. "), re.compile(r"(?!)"))
        if asked and asked[0] != "back":
            return asked[0], asked[1]
    return "well", ""


def _span(question: str) -> str:
    """Return the part of the day or week `question` asks about: "weekend", "night" (a
    night's sleep, last night), "evening" (tonight), "week" (lately), else "day"."""
    found = re.search(
        r"(?i)\b(weekend|week|morning|afternoon|evening|night|tonight|sleep|lately)\b", question
    )
    word = found[1].lower() if found else "day"
    return {"tonight": "evening", "sleep": "night", "lately": "week"}.get(word, word)


def _gerund(thing: str) -> str:
    """Return what "do you like to …?" asks about as a thing ("to read" -> "reading", "to
    swim" -> "swimming", "to go hiking" -> "going hiking"); any other thing as it is."""
    words = thing.split()
    if len(words) < 2 or words[0].lower() != "to":
        return thing
    verb = words[1]
    if re.fullmatch(r"(?i)[^aeiou]*[aeiou][^aeiouwxy]", verb):  # swim, run, chat: one syllable
        verb += verb[-1]
    elif re.search(r"(?i)[^aeioy]e$", verb) and len(verb) > 2:  # write, dance; not see, be
        verb = verb[:-1]
    return " ".join([verb + "ing", *words[2:]])


def _traits(traits: tuple[str, ...]) -> str:
    """Return the persona's traits as it says them of itself ("warm, curious, and kind"): its
    first three of one word each, in lower case; "" when it has none."""
    words = [t.strip().lower() for t in traits if re.fullmatch(r"[^\W\d_][\w'’-]*", t.strip())]
    return _join(list(dict.fromkeys(words))[:3])


def _opening(text: str, persona_name: str, before: str = "") -> Opening:
    """Return `text` split into its hello, its question to the persona and the rest: "Hi
    Bella! I got a puppy" -> ("Hi", "", "I got a puppy"). A name after a hello or a question
    is the persona's (`persona_name`, any case) or one word before a comma or a stop ("Hey
    Sam,"). Of two questions, one about the persona's things outweighs a "how are you". A
    question turned back at the end ("…, and you?", "How was yours?") is read off the end,
    of the kind `_turned_back` finds in what they told or the persona's reply `before`."""
    names = sorted({persona_name.strip(), *persona_name.split()[:1]} - {""}, key=len)
    persona = "".join(f"(?i:{re.escape(name)})\\b|" for name in reversed(names))
    vocative = re.compile(r"[\s,]*(?:" + persona + r"[A-Z][\w'’-]*(?=\s*[,.!…]))")
    hello, asked, subject, rest = "", "", "", text
    while True:
        stripped = rest.lstrip(_SEPARATORS)
        if found := _HELLO.match(stripped):
            hello, end = hello or found.group(), found.end()
        elif question := _asked(stripped):
            if asked in ("", "well", "back"):
                asked, subject = question[:2]
            end = question[2]
        else:
            break
        rest = stripped[end:]
        if named := vocative.match(rest):
            rest = rest[named.end() :]
    rest = rest.lstrip(_SEPARATORS) if hello or asked else rest
    after = False
    if _words(rest) and (question := _asked_at_end(rest, vocative)):
        # "I had a great weekend! How was yours?": one question, the front's if it weighs more.
        if asked in ("", "well", "back"):
            asked, subject = question[:2]
        after = True
        rest = rest[: question[2]].rstrip(_SEPARATORS.replace("!", "").replace(".", ""))
    if asked == "back":
        asked, subject = _turned_back(rest, before)
    return Opening(hello=hello, asked=asked, rest=rest, subject=subject, after=after)


def _hi(hello: str) -> str:
    """Return the hello said back to `hello`: the user's "Good morning", else "Hello" or "Hi"."""
    low = hello.lower()
    time = next((t for t in ("morning", "afternoon", "evening") if t in low), "")
    if time:
        return f"Good {time}"
    return "Hello" if low.startswith(("hel", "greetings", "howdy")) else "Hi"


# Requests and questions asked without a question mark ("tell me about yourself").
ASKING = {"what", "how", "why", "where", "when", "who", "which", "can", "could", "would", "will"}
DISTRESS = {
    "sad", "stressed", "stress", "anxious", "anxiety", "tired", "lonely", "upset", "depressed",
    "worried", "overwhelmed", "exhausted", "angry", "hurt", "crying", "awful", "terrible",
    "rough", "scared", "afraid", "nervous", "miserable", "heartbroken",
}  # fmt: skip
# How the user feels about what they say: one rule for distress, dislike and good news.
NEGATIVE = DISTRESS | {"longing"} | {
    "hate", "hated", "hates", "hating", "dread", "dreading", "dreaded", "sick", "ill", "bad",
    "badly", "worst", "horrible", "ugh", "annoying", "annoyed", "frustrated", "frustrating",
    "failed", "failing", "boring", "bored", "sucks", "sucked", "dislike", "disliked",
    "unhappy", "struggling", "fired", "dumped", "rejected", "painful", "hurts", "furious",
    "disappointed", "disappointing", "fedup", "killing", "broken", "nightmare",
}  # fmt: skip
POSITIVE = {
    "love", "loved", "loves", "loving", "happy", "glad", "excited", "thrilled",
    "wonderful", "fantastic", "proud", "enjoy", "enjoyed", "enjoying",
    "yay", "delighted", "passed", "won", "finished", "promoted", "liked", "likes",
    "celebrating", "engaged", "hired",
}  # fmt: skip
# Words that turn the feeling word after them around ("not happy", "I don't hate it").
NEGATORS = {
    "not", "don't", "dont", "didn't", "didnt", "doesn't", "doesnt", "isn't", "isnt", "wasn't",
    "wasnt", "aren't", "weren't", "never", "no", "won't", "can't", "cant", "cannot", "hardly",
}  # fmt: skip
# Missing someone or something is a sad feeling, longing: "I miss my grandma", "I'm missing
# home". Said of "I"/"we" with nothing between but an adverb ("I don't miss him" is no longing,
# "I missed the bus" is no missing); "I miss you" is said to the persona, not a sorrow.
_LONG_FOR = (
    r"(?i:\b(?:i|we)(?:\s+(?:really|still|just|so|truly|kinda|sometimes|already|do))*\s+miss"
    r"|\b(?:i['’]?m|i\s+am|we['’]re|we\s+are)(?:\s+(?:really|still|just|so))*\s+missing)"
    r"(?=\s+(?!(?i:you|u|ya|y'all|out|a|an)\b)[^\W\d_])"
)
_LONGING = re.compile(_LONG_FOR)
# What is missed ends at the clause, or at words saying how much or since when.
_MISSED_ENDS = {
    "so", "much", "lately", "today", "tonight", "sometimes", "now", "right", "but", "because",
    "when", "though", "already", "too", "more", "every", "since", "like", "terribly", "badly",
    "loads", "tbh", "lol", "a", "all", "these", "recently", "still", "honestly",
}  # fmt: skip
_MISSED_YOURS = {"my": "your", "our": "your", "mine": "yours", "me": "you", "myself": "yourself"}
# Phrases read as one feeling word before the words are looked at.
# A good day (weekend…) had: "I had a great weekend" is glad news, said back as "your great
# weekend"; "Have a great weekend!" is a wish, not news.
_GOOD_ADJECTIVE = (
    r"(?:(?:really|very|pretty|super|such\s+an?)\s+)?(?:great|good|lovely|nice|fun|amazing"
    r"|awesome|wonderful|fantastic|perfect|relaxing|brilliant)"
)
_GOOD_SPAN = r"(?:day|weekend|week|morning|afternoon|evening|night|time)"
_GOOD_TIME = (
    r"(?i)\b(?:had|having|spent|spending)\s+(?:an?|the|such\s+an?)\s+"
    rf"{_GOOD_ADJECTIVE}\s+{_GOOD_SPAN}\b"
)
_FEELING_PHRASES = (
    (re.compile(r"(?i)\b(?:can['’]?t|cannot|could\s*n['’]?t)\s+stand\b"), " hate "),
    (re.compile(r"(?i)\b(?:killing|driving)\s+me(?:\s+(?:crazy|mad|nuts))?\b"), " hate "),
    (re.compile(r"(?i)\b(?:sick|tired)\s+of\b|\bfed\s+up\b"), " fedup "),
    (re.compile(r"(?i)\b(?:can['’]?t|cannot)\s+wait\b"), " excited "),
    # Low spirits: "I'm feeling pretty down", "I've been so low lately", "feeling blue"; not
    # "I'm down for it" (willing), nor "down to two options".
    (
        re.compile(
            r"(?i)\b(?:feel(?:s|ing)?|felt|(?:i['’]?m|i\s+am|been)"
            r"(?=\s+(?:so|pretty|really|quite|very|kinda|a\s+bit|a\s+little|super|rather)\b))"
            r"(?:\s+(?:so|pretty|really|quite|very|kinda|kind\s+of|a\s+bit|a\s+little|super"
            r"|rather))*\s+(?:down|low|blue)\b(?!\s+(?:to|for|with)\b)"
        ),
        " sad ",
    ),
    # A long day (week, shift) tires: "I had a long day at work" is no pleasure to hear about.
    (re.compile(r"(?i)\blong\s+(?:day|days|week|shift|night)\b"), " tired "),
    (_LONGING, " longing "),
    # Something new of one's own is good news: "I got a new puppy", "we adopted a cat".
    (
        re.compile(
            r"(?i)\b(?:got|bought|adopted|rescued)\s+(?:an?|my|our)\s+(?:brand[\s-]+)?new\b"
            r"|\b(?:adopted|rescued)\s+(?:an?|my|our)\b"
        ),
        " delighted ",
    ),
    (
        re.compile(r"(?i)\bgot\s+(?:the|a|my|that)\s+(?:new\s+)?(?:job|promotion|offer|part)\b"),
        " hired ",
    ),
    # A good time had is good news: "I had a great weekend", "having such a lovely day".
    (re.compile(_GOOD_TIME), " delighted "),
)
# A feeling word ends the clause it negates: "I'm not sure, but I love it".
_CLAUSE = re.compile(r"[.,;:!?]+|\s(?:but|though|although|however)\s", re.IGNORECASE)


def _feeling(text: str) -> str:
    """Return how the user feels about what they say: "negative", "positive", "relief" or "".

    A negator up to three words before a feeling word turns it around: "I'm not happy" is
    negative, and a negative denied ("not bad at all", "I'm not worried about the exam") is
    relief, calmer than good news. Any negative wins, then a positive, then relief.
    """
    for pattern, word in _FEELING_PHRASES:
        text = pattern.sub(word, text)
    found = set()
    for clause in _CLAUSE.split(text):
        words = [w.lower() for w in _words(clause)]
        for i, word in enumerate(words):
            polarity = "negative" if word in NEGATIVE else "positive" if word in POSITIVE else ""
            if polarity and NEGATORS & set(words[max(0, i - 3) : i]):
                polarity = "relief" if polarity == "negative" else "negative"
            found.add(polarity)
    return next((f for f in ("negative", "positive", "relief") if f in found), "")


def _missed(text: str) -> str:
    """Return what the user says they miss, said back to them ("I miss my grandma so much" ->
    "your grandma", "I'm missing home" -> "home"), or "" when they miss nothing."""
    found = _LONGING.search(text)
    if not found:
        return ""
    clause = _CLAUSE.split(text[found.end() :], maxsplit=1)[0]
    words = _words(clause)
    kept: list[str] = []
    for i, word in enumerate(words[:5]):
        low = word.lower()
        if low in _MISSED_ENDS or (
            low == "and"
            and words[i + 1 : i + 2]
            and (words[i + 1].lower() in PRONOUNS | {"i'm", "it", "it's", "im"})
        ):
            break
        kept.append(_MISSED_YOURS.get(low, word))
    while kept and kept[-1].lower() in {"and", "the", "of", "to", "with", "in"}:
        kept.pop()
    return " ".join(kept)


STOPWORDS = {
    "the", "and", "but", "for", "with", "about", "that", "this", "what", "when", "where", "how",
    "why", "who", "you", "your", "are", "was", "were", "have", "has", "had", "just", "really",
    "very", "much", "some", "any", "can", "could", "would", "should", "will", "from", "into",
    "them", "they", "there", "then", "than", "been", "being", "also", "too", "not", "don't",
    "i'm", "it's", "its", "think", "feel", "know", "want", "like", "today", "tomorrow",
    "tonight", "yesterday", "now", "later", "again", "still", "me", "my", "our", "we", "he",
    "she", "him", "her", "his", "their", "user", "user's", "tell", "please", "get", "got",
    "yourself", "myself", "yourselves", "ourselves", "himself", "herself", "themselves",
    "i've", "i'll", "i'd",
    "though", "anyway", "anymore", "maybe", "actually", "even", "ever",
}  # fmt: skip
# Turn the user's (or a memory's third-person) words around to speak to the user.
TO_YOU = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "am": "are",
    "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "their": "your",
}  # fmt: skip
PRONOUNS = {"i", "you", "we", "they", "he", "she", "i'll", "you'll", "we'll", "i'd", "you'd"}
# Kept before a topic word; "your" is the persona's, said back as "my" ("your weekend").
DETERMINERS = {"the", "a", "an", "this", "these", "those", "his", "her", "their", "our", "your"}
VERB_FORMS = {"is": "are", "was": "were", "has": "have", "does": "do", "goes": "go"}
MEMORY_LEADS = ("You mentioned {fact}.", "I remember {fact}.")

_WORD = re.compile(r"[\w'’-]+")


def _seed(*parts: object) -> int:
    """Return a number that depends only on `parts` (unlike hash(), stable across runs)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORD.findall(text)]


def _key(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


def _content_keys(text: str) -> set[str]:
    return {_key(w) for w in _words(text) if len(w) > 2 and w.lower() not in STOPWORDS}


def _intent(opening: Opening) -> str:
    """Return what kind of answer the message needs: "greet", "meet", "comfort", …, or the
    kind of a question asked of the persona ("well", "day", "likes": `_ASKED`).

    What follows a hello or a question to the persona decides ("Hi! I got a puppy" is news,
    "How was your day? I'm so stressed" needs comfort); a hello or a question with nothing
    more to answer ("hey!!", "Hi, I'm back", "How was your weekend?") is met as one.
    """
    text = opening.rest
    intent = _intent_of(text) if _words(text) else ""
    if (opening.hello or opening.asked) and intent in ("", "statement") and not _topic(text):
        return opening.asked or "greet"
    if opening.asked and _FINE.fullmatch(text) and intent not in ("comfort", "farewell"):
        return opening.asked  # "Good, thanks, and you?": no thanks for help, but how it is
    return intent or "statement"


def _intent_of(text: str) -> str:
    words = [w.lower() for w in _words(text)]
    feeling = "" if _introduced_name(text) else _feeling(text)  # "I'm Tom and I hate…": meet
    if feeling == "negative" and _missed(text):  # "I'm sad, I miss my grandma": what's missed
        return "longing"
    if feeling == "negative" and DISTRESS & set(words):
        return "comfort"
    if FAREWELL_WORDS & set(words) or _FAREWELL.search(text):
        return "farewell"
    if THANKS & set(words):
        return "thanks"
    if feeling == "negative":  # "I hate my job"; but "I hate to go, good night" is a goodbye
        return "comfort"
    if _introduced_name(text):
        return "meet"
    if "?" in text or (words and (words[0] in ASKING or words[:2] == ["tell", "me"])):
        return "question"
    return {"positive": "glad", "relief": "relief"}.get(feeling, "statement")


@functools.lru_cache(maxsize=64)
def _introduction(text: str) -> Introduction | None:
    """Return the introduction in `text`, read once per message (intent, name, the rest)."""
    return introduced_name(text)


def _introduced_name(text: str) -> str:
    """Return the name the user gives in `text` ("My name is ana" -> "Ana", "I'm Tom, I…"
    -> "Tom"), or "": the rule memory's extraction keeps as their preferred name."""
    intro = _introduction(text)
    return intro.first if intro else ""


def _without_introduction(text: str) -> str:
    """Return `text` without the words introducing the user ("I'm Tom, I moved…" -> ", I
    moved…"): what else they said."""
    intro = _introduction(text)
    return text[: intro.start] + text[intro.end :] if intro else text


# Words that make a poor echo on their own ("telling me about nice").
VAGUE = frozenset(
    [
        "nice",
        "good",
        "great",
        "fine",
        "cool",
        "funny",
        "interesting",
        "amazing",
        "awesome",
        "bad",
        "sad",
        "happy",
        "new",
        "old",
        "little",
        "big",
        "lot",
        "lots",
        "thing",
        "things",
        "stuff",
        "something",
        "anything",
        "everything",
        "nothing",
        "today",
        "tonight",
        "tomorrow",
        "yesterday",
        "line",
        "one",
        "two",
        "three",
        "please",
        # Interjections: a laugh or a "yeah" is no topic ("telling me about haha").
        "haha",
        "hehe",
        "lmao",
        "yeah",
        "yep",
        "yes",
        "nope",
        "okay",
        "wow",
        "hmm",
        "hmmm",
        "aww",
        "omg",
        "meet",  # "I'm Tom, nice to meet you"
        # Fillers and adverbs: "Guess what, I got the job!", "I'm feeling pretty tired",
        # "I'm back!".
        "guess",
        "pretty",
        "feeling",
        "back",
    ]
)
# A laugh of any length: "hahaha", "hehehe", "ahah".
_LAUGH = re.compile(r"(?i)^(?:a?h[aeiu]){2,}h?$|^(?:lo+l)+$")
# Adjectives ("beautiful", "nervous", "hopeless") make a poor topic: "telling me about beautiful".
ADJECTIVE_ENDINGS = ("ful", "ous", "less")


# What a user tells about their life, said back as a phrase: "I just moved to Berlin" ->
# "your move to Berlin", "I work as a nurse" -> "your work as a nurse", "I got a new puppy
# named Biscuit" -> "your new puppy named Biscuit".
# Said by the user of themselves: "I", "I'm", "we've", and up to two adverbs ("I just").
_I_DID = (
    r"(?i:\b(?:i|we)(?:['’](?:m|re|ve)|\s+(?:am|are|have|had|was|were))?\s+"
    r"(?:(?:just|recently|finally|also|now|currently|still|actually|really)\s+){0,2}"
)
_LIFE = (
    (
        re.compile(
            _I_DID + r"(?:moved|moving|relocated|relocating)\s+to)\s+"
            r"(?P<x>(?i:the\s+|a\s+new\s+|a\s+)?[\w'’-]+(?:\s+[A-Z][\w'’-]*)*)"
        ),
        "your move to {x}",
    ),
    (
        re.compile(
            _I_DID + r"work(?:ed|ing)?\s+as)\s+(?P<x>(?i:an?)\s+[\w'’-]+"
            r"(?:\s+(?!(?i:in|at|for|and|but|with|so|now|because)\b)[a-z][\w'’-]*)?)"
        ),
        "your work as {x}",
    ),
    (
        re.compile(
            _I_DID + r"(?:(?:got|bought|have)\s+(?:an?|my|our)\s+(?:brand[\s-]+)?new"
            r"|(?:adopted|rescued|brought\s+home)\s+(?:an?|my|our)(?:\s+(?:brand[\s-]+)?new)?))\s+"
            # One word, or two ending the clause ("a rescue dog."), then its name if given.
            r"(?P<x>[^\W\d_][\w'’-]*(?:\s+(?!(?i:today|tonight|yesterday|now|again|too|lately)\b)"
            r"[^\W\d_][\w'’-]*(?=\s*(?:[^\w\s]|$|\s(?:named|called)\b)))?"
            r"(?:\s+(?:named|called)\s+[A-Z][\w'’-]*)?)"
        ),
        "your new {x}",
    ),
    (
        re.compile(
            _I_DID + r"(?:had|having|spent|spending))\s+(?i:an?|the|such\s+an?)\s+"
            rf"(?P<x>{_GOOD_ADJECTIVE}\s+{_GOOD_SPAN})\b"
        ),
        "your {x}",
    ),
)


def _life_topic(text: str) -> str:
    """Return what `text` tells about the user's life ("your move to Berlin and your work
    as a nurse"), or ""."""
    found = sorted(
        (match.start(), template.format(x=match["x"]))
        for pattern, template in _LIFE
        for match in pattern.finditer(text)
    )
    return " and ".join(_join([phrase for _start, phrase in found]).rsplit(", and ", 1))


# Days and months: no names (memory's and the gap line's rules), but a fine topic ("Monday").
CALENDAR = frozenset(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()  # noqa: SIM905
)
# Feeling words are what the user feels, never what they talk about ("feeling down").
FEELING_WORDS = NEGATIVE | POSITIVE | {
    "hate", "killing", "stand", "miss", "missing", "down", "low", "blue",
}  # fmt: skip
# Verbs that end the phrase after "my": "my exam went badly" -> "your exam".
TOPIC_ENDS = {"went", "goes", "got", "gets", "feels", "felt", "keeps", "kept", "seems", "looks"}


def _topic(text: str) -> str:
    """Return what `text` is about ("your sister", "the marathon", "Lisbon"), or ""."""
    life = _life_topic(text)
    if life:
        return life
    words = _words(text)
    lowered = [w.lower() for w in words]
    if "my" in lowered:
        kept: list[str] = []
        for word in words[lowered.index("my") + 1 :][:2]:
            low = word.lower()
            if len(word) < 3 or low in STOPWORDS | FEELING_WORDS or low in TOPIC_ENDS:
                break
            kept.append(word)
        if kept:
            return "your " + " ".join(kept)
    for i in range(len(words) - 1, -1, -1):
        low = lowered[i]
        if not 3 < len(low) <= 24 or low in STOPWORDS | GREETINGS | VAGUE:
            continue
        # "-ly" makes an adverb ("really"), but not of a month, a name or a thing after a
        # determiner ("July", "Italy", "your family", "the rally").
        named = low in CALENDAR or (i > 0 and words[i][0].isupper())
        if low.endswith("ly") and not named and (i == 0 or lowered[i - 1] not in DETERMINERS):
            continue
        if low in FEELING_WORDS:  # "I'm dreading Monday": Monday, not "dreading"
            continue
        # "I'm British": a state or a nationality, not a topic; but "dreading Monday" names one.
        if low in NOT_NAME_WORDS and low not in CALENDAR:
            continue
        if _LAUGH.match(low) or (len(low) > 5 and low.endswith(ADJECTIVE_ENDINGS)):
            continue
        if i > 0 and lowered[i - 1] in PRONOUNS:  # "I cook": a verb, not a topic
            continue
        # Keep "the" or "a new" before the word, so the echo reads as a phrase.
        for start in (i - 1, i - 2):
            between = lowered[start + 1 : i]
            if start >= 0 and lowered[start] in DETERMINERS and STOPWORDS.isdisjoint(between):
                lead = "my" if lowered[start] == "your" else words[start]
                return " ".join([lead, *words[start + 1 : i + 1]])
        return words[i]
    return ""


def _second_person(text: str) -> str:
    """Return `text` (first or third person, about the user) addressed to the user."""
    out: list[str] = []
    for word in text.split():
        low = word.lower()
        if low in TO_YOU:
            out.append(TO_YOU[low])
        elif out and out[-1] == "you":
            out.append(VERB_FORMS.get(low) or _base_verb(word))
        else:
            out.append(word)
    return " ".join(out)


def _base_verb(word: str) -> str:
    low = word.lower()
    if low.endswith("ies") and len(low) > 4:
        return word[:-3] + "y"
    if low.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if low.endswith("s") and not low.endswith("ss"):
        return word[:-1]
    return word


def _memory_sentence(item: RecalledItem, seed: int) -> str:
    # Only the first sentence, and not too long: a recalled memory can be long.
    words = _sentences(item.content)[0].split()
    text = " ".join(words[:25]).rstrip(".!?,;:") + ("…" if len(words) > 25 else "")
    fact = _to_you(text)
    if fact is None:
        return f"Something I remember: {text}."
    return MEMORY_LEADS[seed % len(MEMORY_LEADS)].format(fact=fact)


def _relevant_memory(prompt: Prompt) -> RecalledItem | None:
    """Return the recalled memory sharing the most words with the message, if any does.

    Only memories: a past message may be the persona's own line or a question, nothing
    to bring up as something remembered about the user.
    """
    message = _content_keys(prompt.user_message)
    best, best_overlap = None, 0
    for item in prompt.recalled:
        if item.kind != "memory" or item.content.strip() in ("", prompt.user_message.strip()):
            continue
        overlap = len(message & _content_keys(item.content))
        if overlap > best_overlap:
            best, best_overlap = item, overlap
    return best


# Capitalised words that name no place, person or thing worth asking about after a gap.
NOT_NAMES = frozenset({"i", "i'm", "i've", "i'll", "i'd"}) | CALENDAR


def _gap_topic(content: str) -> str:
    """Return what a memory is about, to ask after ("your sister's wedding", "Porto"), or ""."""
    text = _sentences(content)[0]
    for prefix in ("the user's ", "user's "):
        if text.lower().startswith(prefix):
            text = "my " + text[len(prefix) :]
    words = _words(text)
    if "my" in (word.lower() for word in words):
        topic = _topic(text)
        if topic.startswith("your "):
            return topic
    names: list[str] = []
    for word in words[1:]:
        if word[0].isupper() and word.lower() not in NOT_NAMES:
            names.append(word)
        elif names:
            break
    return " ".join(names)


def _long_gap(prompt: Prompt) -> bool:
    """Return whether the user last wrote at least OFFLINE_GAP_DAYS before this message."""
    days = settings.OFFLINE_GAP_DAYS
    if days <= 0 or prompt.now is None or prompt.last_talked_at is None:
        return False
    return prompt.now - prompt.last_talked_at >= timedelta(days=days)


def gap_line(prompt: Prompt, *, ask: bool = True) -> tuple[str, RecalledItem | None]:
    """Return what the offline engine says after a long gap, and the memory it asks about.

    Empty when the gap is short. It asks after the newest memory that names something
    ("It's been a while! Last time you told me about Porto; how did that go?"), unless `ask`
    is false (the reply asks something else).
    """
    if not _long_gap(prompt):
        return "", None
    for item in prompt.recent if ask else ():
        topic = _gap_topic(item.content)
        if topic:
            return f"It's been a while! Last time you told me about {topic}; how did that go?", item
    return "It's been a while; it's really good to hear from you again.", None


# Answers from memory: "What's my dog's name?" is answered from what the user said before,
# in the second person, or with "You haven't told me … yet."

# A memory's own words (third person, as the extractors write them) turned to the user.
THEY_TO_YOU = {
    "they": "you", "them": "you", "their": "your", "theirs": "yours", "themselves": "yourself",
    "they're": "you're", "they've": "you've", "they'll": "you'll", "they'd": "you'd",
}  # fmt: skip
NOT_VERBS = {"always", "sometimes", "perhaps", "also", "still", "just", "really", "never"}
PAST_VERBS = {"grew", "was", "were", "went", "moved", "had", "got", "met", "started", "used"}
_FILLER = re.compile(
    r"(?i)^(?:(?:and|so|also|oh|hey|ok|okay|but|then|btw|now|wait|um|hmm)\b[\s,]*)*"
    r"(?:(?:do|did|can|could|would)\s+you\s+(?:still\s+|even\s+)?"
    r"(?:remember|know|recall|tell\s+me)\s+|(?:tell|remind)\s+me\s+(?:of\s+|again\s+)?)?"
)
_WH = re.compile(
    r"(?i)^(?:what|whats|which|where|wheres|who|whos|when|whens|how\s+old|how\s+many)\b"
)
_ADVICE = re.compile(r"(?i)\b(?:should|could|would|can|shall|might|must)\s+i\b")
_FIRST_PERSON = re.compile(r"(?i)\b(?:my|mine|i|me|i['’]m)\b")
_SYNONYMS = {
    "living": {"live"}, "home": {"live"}, "city": {"live"}, "job": {"work"},
    "working": {"work"}, "born": {"birthday", "born"}, "birthday": {"birthday", "born"},
    "come": {"from"}, "love": {"like"}, "enjoy": {"like"}, "favorite": {"favourite", "like"},
    "favourite": {"favourite", "like"}, "mum": {"mum", "mom", "mother"},
    "mom": {"mum", "mom", "mother"}, "mother": {"mum", "mom", "mother"},
    "dad": {"dad", "father"}, "father": {"dad", "father"},
    "pet": {"dog", "cat", "puppy", "kitten", "bird", "parrot", "hamster", "rabbit", "bunny",
            "fish", "horse", "turtle", "tortoise", "snake", "lizard", "ferret", "pony"},
}  # fmt: skip
_GENERIC = {"name", "called", "named"}
_ANSWER_STOP = {
    "what", "whats", "which", "where", "wheres", "who", "whos", "when", "whens", "how", "old",
    "many", "is", "are", "am", "was", "were", "do", "does", "did", "my", "mine", "i", "i'm",
    "me", "you", "your", "remember", "know", "recall", "tell", "again", "the", "a", "an", "and",
    "in", "at", "as", "on", "to", "of", "for", "they", "their", "them", "they're", "user",
    "user's", "has", "have", "still", "now", "yet", "please", "s",
}  # fmt: skip


def _answer_keys(text: str) -> set[str]:
    keys: set[str] = set()
    text = re.sub(r"\bdo (?:for (?:a living|work)|for a job)\b", "work", text.lower())
    for word in _words(text.replace("'s ", " ")):
        word = word.removesuffix("'s")
        if word in _ANSWER_STOP or len(word) < 2:
            continue
        singular = word[:-1] if word.endswith("s") and len(word) > 3 else word
        keys |= _SYNONYMS.get(singular, set()) | {_key(word), singular}
    return keys


def _to_you(fact: str) -> str | None:
    """Return a memory about the user said to them ("Lives in Lisbon" -> "you live in
    Lisbon"), or None when it does not read as one."""
    text = fact.strip().rstrip(".!")
    low = text.lower()
    for prefix in ("the user's ", "user's "):
        if low.startswith(prefix):
            text, low = "their " + text[len(prefix) :], "their " + low[len(prefix) :]
    for prefix in ("the user ", "user "):
        if low.startswith(prefix):
            text, low = "they " + text[len(prefix) :], "they " + low[len(prefix) :]
    words = text.split()
    if not words:
        return None
    first = words[0].lower().replace("’", "'")
    if first in THEY_TO_YOU:
        out = []
        for i, word in enumerate(words):
            low_word = word.lower().replace("’", "'")
            if low_word in THEY_TO_YOU:
                out.append(THEY_TO_YOU[low_word])
            elif i > 0 and out[-1] == "you" and low_word not in NOT_VERBS:
                out.append(VERB_FORMS.get(low_word) or _base_verb(word))
            else:
                out.append(word)
        return " ".join(out)
    if first in VERB_FORMS or first in PAST_VERBS or (first.endswith("s") and len(first) > 3):
        verb = VERB_FORMS.get(first) or (first if first in PAST_VERBS else _base_verb(first))
        rest = " ".join(THEY_TO_YOU.get(w.lower(), w) for w in words[1:])
        return f"you {verb} {rest}".strip()
    return None


def _question_parts(text: str) -> list[str]:
    """Return the questions about the user in `text` ("what's my dog's name", "where do I
    live"), each without its filler ("and", "do you remember")."""
    pieces = re.split(
        r"[?!.;]+|,\s*|\s+(?:and|or)\s+(?=(?:what|where|who|when|which|how|do|did)\b)",
        text,
        flags=re.IGNORECASE,
    )
    parts = []
    for piece in pieces:
        piece = _FILLER.sub("", piece.strip()).strip()
        about_you = re.search(r"(?i)\byou\b", piece)
        if _WH.match(piece) and _FIRST_PERSON.search(piece) and not about_you:
            if not _ADVICE.search(piece):
                parts.append(piece)
        elif re.match(r"(?i)^my\b", piece) and not about_you:
            parts.append(piece)  # "do you remember my birthday"
    return parts


def _unknown(part: str) -> str:
    """Return what a question asks for, said back ("where do I live" -> "where you live")."""
    low = re.sub(r"\s+", " ", part.lower().replace("’", "'")).removesuffix(" again")
    for pattern, template in (
        (r"^(?:what|which)(?:'s| is| are| was|s) my (?P<x>.+)$", "your {x}"),
        (r"^(?P<wh>who|when|where)(?:'s| is| was|s) my (?P<x>.+)$", "{wh} your {x} is"),
        (r"^(?P<wh>where|what|when|who|how)\s+(?:do|did) i (?P<x>.+)$", "{wh} you {x}"),
        (r"^(?P<wh>where|what|how old|who) am i(?P<x>.*)$", "{wh} you are{x}"),
        (r"^my (?P<x>.+)$", "your {x}"),
    ):
        found = re.match(pattern, low)
        if found:
            parts = {k: _second_person(v) for k, v in found.groupdict().items()}
            return template.format(**parts).strip()
    return "that"


def _join(items: list[str], word: str = "and") -> str:
    if len(items) < 3:
        return f", {word} ".join(items) if word == "and" else f" {word} ".join(items)
    return ", ".join(items[:-1]) + f", {word} " + items[-1]


def _answer_from_memory(prompt: Prompt) -> str | None:
    """Return the answer to a question about the user from the recalled memories, or None
    when the message asks nothing about them.

    Only memories count: never a past message (the persona's own line, or a question).
    """
    parts = _question_parts(prompt.user_message)
    if not parts:
        return None
    memories = [
        item.content.strip()
        for item in prompt.recalled
        if item.kind == "memory" and item.content.strip()
    ]
    known: list[str] = []
    unknown: list[str] = []
    for part in parts:
        wanted = _answer_keys(part)
        strong = wanted - _GENERIC
        scored = []
        for memory in memories:
            have = _answer_keys(memory)
            if strong and not strong & have:
                continue
            score = 2 * len(strong & have) + len(wanted & _GENERIC & have)
            if score:
                scored.append((score, memory))
        best = max((score for score, _memory in scored), default=0)
        facts = [_to_you(memory) for score, memory in scored if score == best][:3]
        facts = [fact for fact in facts if fact and fact not in known]
        if facts:
            known.extend(facts)
        else:
            unknown.append(_unknown(part))
    answer = _join(known)
    if unknown:
        missing = f"you haven't told me {_join(unknown, 'or')} yet"
        answer = f"{answer}, but {missing}" if answer else missing
    return answer[0].upper() + answer[1:] + "."


def _with_name(sentence: str, name: str) -> str:
    body = sentence.rstrip(".!?")
    return f"{body}, {name}{sentence[len(body) :] or '.'}"


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", text.strip())


# How many of the persona's last replies a fixed line is not said again after.
REPEAT_WINDOW = 3


def _recently_said(prompt: Prompt) -> list[str]:
    """Return the persona's last REPEAT_WINDOW replies in the prompt's history, newest first."""
    replies = [m.get("content", "") for m in prompt.messages if m.get("role") == "assistant"]
    return replies[::-1][:REPEAT_WINDOW]


def _was_said(line: str, replies: list[str]) -> bool:
    """Say whether a fixed line (its words around {topic} or {name}) is in one of `replies`."""
    pieces = [p.strip(" ,.;:!?") for p in re.split(r"\{\w+\}", line)]
    pieces = [p for p in pieces if len(p) >= 6] or [line.strip(" ,.;:!?")]
    return any(all(piece in reply for piece in pieces) for reply in replies)


def _said_ago(line: str, replies: list[str]) -> int:
    """Return how many replies back (newest first) `line` was last said; len+1 if never."""
    return next(
        (ago for ago, reply in enumerate(replies) if _was_said(line, [reply])), REPEAT_WINDOW
    )


def compose(prompt: Prompt) -> str:
    """Return the offline reply to `prompt`: 1 to 4 sentences in the persona's voice."""
    voice = VOICES.get(prompt.communication_style, VOICES["warm"])
    seed = _seed(prompt.user_message.strip(), prompt.turn)
    if prompt.variant:
        # A regenerated reply says something else; the first answer stays what it was.
        seed = _seed(seed, "variant", prompt.variant)

    said = _recently_said(prompt)

    def pick(options: tuple[str, ...], salt: str) -> str:
        # Not a line the persona said in its last few replies: one unsaid, else the oldest.
        ages = [_said_ago(option, said) for option in options]
        choices = [option for option, age in zip(options, ages, strict=True) if age == max(ages)]
        return choices[_seed(seed, salt) % len(choices)]

    name = prompt.user_name.strip()
    before = next(
        (m.get("content", "") for m in reversed(prompt.messages) if m.get("role") == "assistant"),
        "",
    )
    opening = _opening(prompt.user_message, prompt.persona_name, before)
    message = opening.rest  # what the reply answers: the message after its hello
    intent = _intent(opening)
    about_me = intent in ASKED_KINDS  # a question to the persona itself
    # Told, then asked back ("I had a great weekend! How was yours?"): glad, then its own.
    also = opening.asked if opening.after and intent in ("glad", "statement") else ""
    about_me = about_me or bool(also)

    def own_answer(kind: str, salt: str) -> str:
        # The persona's own answer to a question about itself, in the first person.
        traits = _traits(prompt.traits)
        nature = " " + pick(voice.nature, "nature").format(traits=traits) if traits else ""
        return pick(getattr(voice, kind), salt).format(
            span=opening.subject,
            thing=opening.subject,
            name=prompt.persona_name.strip(),
            nature=nature,
        )

    topic = _topic(message)
    told = ""  # after an introduction, what else they said
    comforted = False  # an introduction with a sad remainder ("I'm Tom and I'm so stressed")
    cheered = intent == "glad"  # good news, then a question that fits it
    greeting = prompt.greeting.replace("{{char}}", prompt.persona_name)
    greeting = " ".join(_sentences(greeting.replace("{{user}}", name or "you"))[:2])
    # A conversation started on the page opens with the greeting (or an alternate one): a
    # first "hi" then is not met by an introduction again. Whether the persona spoke is
    # enough; that greeting may read otherwise (it names a username this one leaves out).
    if intent == "greet" and prompt.turn == 0 and greeting and not said:
        opener = greeting
    elif intent == "meet":
        opener = pick(voice.meet, "open").format(name=_introduced_name(message))
        # What else they said ("I'm Tom, I just moved to Berlin"): picked up after the hello.
        rest = _without_introduction(message)
        told = _topic(rest)
        feeling = _feeling(rest)
        cheered = feeling == "positive"
        missed = _missed(rest) if feeling == "negative" else ""
        if missed:
            told = pick(voice.longing, "told").format(topic=missed)
            opener = f"{opener} {told}"
        elif told:
            lines = {"negative": voice.hard, "positive": voice.glad, "relief": voice.relief}
            opener = (
                f"{opener} {pick(lines.get(feeling, voice.statement), 'told').format(topic=told)}"
            )
        elif feeling:
            comforted = feeling == "negative"
            lines = {"negative": voice.comfort, "positive": voice.cheer, "relief": voice.eased}
            told = pick(lines[feeling], "told")
            opener = f"{opener} {told}"
    elif intent == "statement" and not topic:
        opener = pick(voice.ack, "open")
    elif intent == "question" and not topic:
        opener = pick(voice.wonder, "open")
    elif intent == "comfort" and topic:  # "I hate my job": the difficulty, asked about gently
        opener = pick(voice.hard, "open").format(topic=topic)
    elif intent == "glad" and not topic:  # "I got the job!"
        opener = pick(voice.cheer, "open")
    elif intent == "relief":  # "I'm not worried about the exam": calm, no celebration
        opener = pick(voice.relief if topic else voice.eased, "open").format(topic=topic)
    elif intent == "longing":  # "I miss my grandma": warm, naming what is missed
        opener = pick(voice.longing, "open").format(topic=_missed(message))
    elif about_me and not also:  # "How was your weekend?": answered as itself, asked back
        opener = own_answer(intent, "open")
    else:
        options = getattr(voice, intent)
        if also:  # its own answer asks the one question: no echo ("Okay, your weekend?")
            options = tuple(line for line in options if "?" not in line) or options
        opener = pick(options, "open").format(topic=topic)
    if also:  # what they told, then the persona's own answer, which asks back
        opener = f"{opener} {own_answer(also, 'own')}"
    answer = _answer_from_memory(prompt) if "?" in message else None
    gap, asked_about = ("", None) if answer is not None else gap_line(prompt, ask=not about_me)
    if answer is not None:
        # The answer is the reply; only comfort or thanks come before it.
        sentences = [opener, answer] if intent in ("comfort", "thanks") else [answer]
    elif about_me:
        # The persona speaks of itself and asks back: after a long gap, "it's been a while"
        # comes first and asks nothing; nothing remembered of the user is woven in.
        sentences = [gap, opener] if gap else [opener]
    else:
        sentences = [opener, gap] if gap else [opener]
        if gap and intent == "greet":
            sentences = [gap]  # the gap line is the hello: a greeting would ask a second question
        memory = _relevant_memory(prompt)
        if memory is not None and (asked_about is None or memory.content != asked_about.content):
            sentences.append(_memory_sentence(memory, _seed(seed, "memory")))
    length = prompt.preferences.get("reply_length", "").strip().lower()
    if length == "long" and not about_me:  # no advice after the persona's own news
        sentences.append(pick(voice.extra, "extra"))
    # Greetings already end on a question, and so may a gap line or an opener; a goodbye
    # or a "nice to meet you" asks nothing more.
    asks = any("?" in sentence for sentence in sentences)  # one question a reply is enough
    if (
        length != "short"
        and intent not in ("greet", "farewell")
        and (intent != "meet" or told)
        and not asks
        and not asked_about
    ):
        # After comfort, a gentle question: not "So what happens next in this saga?"; after
        # good news, one that fits it: not "What made you think of it?".
        follow = voice.follow
        if intent == "comfort" or comforted:
            follow = voice.gentle
        elif cheered:
            follow = voice.savour
        sentences.append(pick(follow, "follow"))
    if (
        opening.hello
        and intent not in ("greet", "meet", "farewell", "comfort", "longing")
        and length != "short"
        and not gap
        and len(sentences) < 4
    ):
        # Said hello to, then told something: a short hello back first, but not before
        # sympathy (a cheery hello would jar), nor beside a greeting or a goodbye.
        sentences.insert(0, pick(voice.hello, "hello").format(hi=_hi(opening.hello)))
    if name and intent != "meet" and _seed(seed, "name") % 3 == 0:
        where = -1 if _seed(seed, "where") % 2 else 0  # the opener or the closing line
        if sentences[where] != answer:  # an answer from memory is said as it is
            sentences[where] = _with_name(sentences[where], name)
    return " ".join(sentences)


class OfflineProvider(ChatProvider):
    """Answer without a language model, deterministically, in the persona's style."""

    name = "offline"
    model = "mybella-offline-1"
    offline = True

    def reply(self, prompt: Prompt) -> str:
        """Return the whole offline reply to `prompt`."""
        return compose(prompt)

    def stream_reply(self, prompt: Prompt) -> Iterator[str]:
        """Yield the reply word by word, each word with the space after it."""
        yield from re.findall(r"\S+\s*", compose(prompt))

    async def astream_reply(self, prompt: Prompt) -> AsyncIterator[str]:
        """Yield the same pieces as `stream_reply`, for an async server (no I/O to wait on)."""
        for piece in self.stream_reply(prompt):
            yield piece

    def embed(self, texts: list[str]) -> list[list[float]] | None:
        """Return None: the offline engine has no embeddings."""
        return None
