"""Safety net: clear danger phrases that always mean `emergency`, whatever the classifier says."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

WEAPON = (
    r"(mes|messen|pistool|pistolen|vuurwapen|vuurwapens|wapen|wapens|geweer|knuppel|"
    r"honkbalknuppel|bijl|machete|hamer|zwaard|gewapend|gewapende|knife|knives|gun|guns)"
)
# Someone physically there, in the present tense ("stond" or "had" do not count).
PRESENT_PRESENCE = (
    r"(staat|staan|sta|zit|zitten|loopt|lopen|wacht|wachten|zwaait|zwaaien|rent|rennen|"
    r"dreigt|dreigen|bedreigt|bedreigen|komt|komen|houdt|er is|er zijn|is er|zijn er|"
    r"outside|is here|are here|at my door)"
)
PLACE = (
    r"(voor|aan|bij|op|in) (de|mijn|m'n|mn|onze|ons|het) "
    r"(deur|voordeur|achterdeur|huis|woning|raam|stoep|tuin|erf|oprit|auto|gang|hal)"
)
HOSTILE = (
    r"(schreeuw\w*|bonk\w*|bons\w*|dreig\w*|roept|roepen|scheld\w*|gooi\w*|trap\w*|"
    r"binnen|weg te gaan|niet weg|agressie\w*|agressief|boos|boze|woedend|dronken|"
    r"vermoord\w*|af te maken|afmaken|pakken|halen|bang)"
)

# Each rule: (name, pattern, guards). A guard names a reason the match may be a story or a
# question rather than danger now; see `_guarded`.
RULES: tuple[tuple[str, str, frozenset[str]], ...] = (
    (
        "help_now",
        r"\bhelp( me\b| mij\b| ons\b)?( alsjeblieft| aub| please)?\W*\b(nu|snel|dringend|meteen)\b"
        r"|\b(nu|snel)\W+help\b",
        frozenset(),
    ),
    ("help_now", r"\bhelp\b\W+\bhelp\b|\bhelp\s*!{2,}|\bhelp me now\b", frozenset()),
    ("help_now", r"\b(nu|snel|dringend|direct|meteen)\s+hulp\s+nodig\b", frozenset()),
    ("help_now", r"\bkom (snel|nu|alsjeblieft|aub|gauw)\b", frozenset()),
    ("help_now", r"^\W*(nood|noodgeval|spoed|sos)\W*$|\bnoodgeval\b", frozenset()),
    (
        "in_danger",
        r"\b(ik ben|ben ik nu|we zijn|wij zijn|ik zit|we zitten|mijn (leven|gezin|kinderen|familie) "
        r"(is|zijn)) (nu |op dit moment |echt |hier )?in (levens)?gevaar\b",
        frozenset(),
    ),
    (
        "in_danger",
        r"\b(acuut|acute) (gevaar|dreiging|nood)\b|\blevensgevaar\b",
        frozenset({"hypo"}),
    ),
    ("in_danger", r"\bi'?m in danger\b|\bi am in danger\b", frozenset()),
    ("in_danger", r"\bik ben (zo |echt |nu )?bang voor mijn leven\b", frozenset()),
    (
        "threatened_now",
        r"\b(word|wordt|worden)\b[^.!?]{0,25}\b(nu|op dit moment|momenteel|op dit ogenblik|"
        r"right now)\b[^.!?]{0,25}\b(bedreigd|gevolgd|achtervolgd|belaagd|lastiggevallen|"
        r"opgewacht|ingesloten|omsingeld|aangevallen|geslagen)\b",
        frozenset({"duration"}),
    ),
    (
        "threatened_now",
        r"\b(bedreigd|gevolgd|achtervolgd|belaagd|aangevallen)\b[^.!?]{0,10}\b(word|wordt)\b"
        r"[^.!?]{0,10}\b(nu|op dit moment)\b|\b(nu|op dit moment)\b[^.!?]{0,10}\b(gevolgd|"
        r"achtervolgd|bedreigd|aangevallen) (word|wordt)\b",
        frozenset(),
    ),
    (
        "threatened_now",
        r"\b(word|wordt|worden)\b[^.!?]{0,40}\b(bedreigd|gevolgd|achtervolgd|belaagd|aangevallen)\b"
        r"[^.!?]{0,20}\b(nu|op dit moment|momenteel)\b"
        r"|\b(dreigt|dreigen|bedreigt|bedreigen)\b[^.!?]{0,30}\b(nu|op dit moment|momenteel)\b"
        r"|\b(nu|op dit moment|momenteel)\b[^.!?]{0,30}\b(dreigt|dreigen|bedreigt|bedreigen)\b"
        r"|\b(wordt|worden) (nu|op dit moment) [^.!?]{0,40}\b(gegooid|gesmeten|geschoten|"
        r"ingeslagen|ingegooid|bekogeld)\b",
        frozenset({"duration"}),
    ),
    ("threatened_now", r"^\W*(spoed|acuut)\b", frozenset()),
    (
        "still_there",
        r"\b(hij|de dader|de daders|die man|die vent)\b (is|staat|zit|loopt) (er |hier |buiten )?"
        r"(nog|nog steeds|nog altijd)\b(?! (niet|steeds niet|altijd niet|mee)\b)"
        r"|\b(ze|zij)\b (staan|zitten|lopen) (er |hier |buiten )?(nog|nog steeds|nog altijd)\b"
        r"(?! (niet|steeds niet|altijd niet|mee)\b)",
        frozenset({"hypo"}),
    ),
    (
        "attacked",
        r"\b(ik|we|wij|mijn \w+) (word|wordt|worden) (hier |nu )?(aangevallen|geslagen|"
        r"in elkaar geslagen|mishandeld|gegijzeld|gewurgd|beschoten|neergestoken|gestoken|"
        r"vastgehouden|ontvoerd)\b",
        frozenset({"duration", "online", "past"}),
    ),
    (
        "attacked",
        r"\b(hij|ze|zij|iemand|een man|een vrouw|die man)\b (slaat|schopt|duwt|wurgt|knijpt|"
        r"trekt aan) (me|mij|ons|mijn (vrouw|man|kind|dochter|zoon))\b"
        r"|\b(hij|ze|zij|iemand) (heeft|hebben|houdt|houden) (me|mij|ons|mijn \w+) vast\b",
        frozenset({"duration", "past", "hypo"}),
    ),
    (
        "followed",
        r"\b(iemand|hij|ze|zij|een man|een auto|een busje|twee mannen|mannen|een groep)\b "
        r"(volgt|volgen|achtervolgt|achtervolgen|rijdt achter|rijden achter|loopt achter|"
        r"lopen achter)\b[^.!?]{0,20}\b(me|mij|ons)\b",
        frozenset({"duration", "past", "hypo"}),
    ),
    (
        "followed",
        r"\b(rijdt|rijden|loopt|lopen) (al )?[^.!?]{0,25}\b(achter|naast) (me|mij|ons) aan\b"
        r"|\b(rijdt|rijden|loopt|lopen)\b[^.!?]{0,30}\bachter (me|mij|ons)\b",
        frozenset({"past", "hypo"}),
    ),
    (
        "intrusion",
        r"\b(er )?(wordt|word) (nu |net |op dit moment )?(bij (mij|ons) )?ingebroken\b",
        frozenset({"past"}),
    ),
    (
        "intrusion",
        r"\b(is|zijn) (iemand |mensen |ze )?(nu )?aan het (inbreken|inbraken)\b"
        r"|\b(probeert|proberen|probeerd)\b[^.!?]{0,40}\b(binnen te komen|in te breken|naar binnen"
        r"|open te breken|in te trappen|in te slaan|in te komen)\b",
        frozenset({"past", "hypo"}),
    ),
    (
        "intrusion",
        r"\b(er is|er zijn|er zit|er zitten|er loopt|er lopen|hij is|ze zijn) (iemand |een man |"
        r"een vrouw |mensen |een inbreker |inbrekers |een vreemde |een onbekende )?"
        r"(nu )?(in (mijn|ons|het) huis|binnen|in huis|in (mijn|onze) (tuin|woning))\b"
        r"(?! (geweest|gekomen|gedrongen|gegaan))",
        frozenset({"past", "hypo"}),
    ),
    (
        "intrusion",
        r"\bbinnengedrongen\b|\b(deur|voordeur) (wordt|word) ingetrapt\b",
        frozenset({"past"}),
    ),
    (
        "intrusion",
        r"\b(trying to )?break(ing)? into my (house|home)\b|\bbreaking in\b",
        frozenset(),
    ),
    (
        "intrusion",
        r"\b(verstop|verberg) (me|mij|ons)\b|\bik (heb|zit) (me |mij )?(in [^.!?]{0,20} )?"
        r"opgesloten\b|\bik zit (verstopt|opgesloten)\b",
        frozenset({"past"}),
    ),
    (
        "fire",
        r"\b(staat|staan) (nu )?in (de )?(brand|fik|vlammen)\b|\ber is (nu )?brand\b|\bhet brandt\b"
        r"|\bbrand\s*!|\b(is|zit) (nu )?vuur\b",
        frozenset({"hypo"}),
    ),
    (
        "fire",
        r"\b(steken|steekt|proberen|probeert)\b[^.!?]{0,40}\bin (de )?(brand|fik)\b",
        frozenset({"past", "hypo"}),
    ),
    (
        "shooting",
        r"\ber (wordt|word) (nu )?geschoten\b|\b(schiet|schieten) (nu )?(op|naar)\b",
        frozenset({"past", "hypo"}),
    ),
    (
        "weapon",
        rf"\b{WEAPON}\b[^.!?]{{0,60}}\b{PRESENT_PRESENCE}\b|\b{PRESENT_PRESENCE}\b[^.!?]{{0,60}}"
        rf"\b{WEAPON}\b",
        frozenset({"past", "hypo"}),
    ),
    (
        "weapon",
        rf"\b(heeft|hebben|heb)\b (\w+ ){{0,2}}{WEAPON}\b(?=\s*($|[,!;]|en\b|bij\b|in\b|vast\b|"
        rf"getrokken\b|op\b))",
        frozenset({"past", "hypo"}),
    ),
    (
        "weapon",
        rf"\b(man|vrouw|iemand|jongen|gast|vent|figuur|persoon|mannen|groep|someone|guy)\b "
        rf"(met|with) (een |a )?{WEAPON}\b[^.!?]{{0,30}}\b{PLACE}\b"
        rf"|\b(word|wordt|worden)\b[^.!?]{{0,30}}\b{WEAPON}\b[^.!?]{{0,20}}\b(bedreigd|"
        rf"aangevallen)\b",
        frozenset({"past", "hypo", "duration"}),
    ),
    (
        "hostile_at_door",
        rf"\b(staat|staan|sta)\b[^.!?]{{0,40}}\b{PLACE}\b[^.!?]{{0,60}}\b{HOSTILE}"
        rf"|\b{HOSTILE}[^.!?]{{0,60}}\b(staat|staan)\b[^.!?]{{0,40}}\b{PLACE}\b"
        rf"|\b(staat|staan)\b[^.!?]{{0,40}}\b{PLACE}\b[^.!?]{{0,10}}\b(en|die|te)\b[^.!?]{{0,40}}"
        rf"{HOSTILE}",
        frozenset({"past", "hypo"}),
    ),
    (
        "hostile_at_door",
        r"\b(bonkt|bonken|bonst|bonzen|rammelt|rammelen|trapt|trappen|slaat|slaan|gooit|gooien|"
        r"schopt|schoppen|beukt|beuken)\b[^.!?]{0,30}\b(deur|voordeur|raam|ramen|ruit|ruiten)\b"
        r"|\b(gooit|gooien)\b[^.!?]{0,30}\bstenen\b|\bstenen\b[^.!?]{0,20}\b(gooit|gooien)\b"
        r"|\b(wordt|worden) bekogeld\b|\b(bestormen|bestormt)\b",
        frozenset({"past", "hypo"}),
    ),
    (
        "suspect_object",
        r"\b(ligt|staat) (een )?verdacht (pakket|pakketje|voorwerp)\b|\bhet tikt\b",
        frozenset({"past", "hypo"}),
    ),
)

PAST = re.compile(
    r"\b(gisteren|gisteravond|gistermiddag|gisternacht|gistermorgen|eergisteren|vorige|vorig|"
    r"afgelopen|laatst|destijds|toen|ooit|geleden|geweest|gesignaleerd|gearresteerd|"
    r"aangehouden|opgepakt|weggegaan|weggelopen|vertrokken|gebruikt)\b"
)
NOW = re.compile(
    r"\b(nu|op dit moment|momenteel|op dit ogenblik|nog steeds|nog altijd|right now|net|help|"
    r"snel|112)\b"
)
HYPO = re.compile(
    r"\b(als|wanneer|indien|mocht|stel dat|stel) (er|iemand|hij|ze|zij|je|jij|ik|men|een|mijn|"
    r"m'n)\b|\b(in geval van|wat te doen|wat doe je|hoe (moet|kan) ik|tips|training|cursus|"
    r"protocol)\b"
)
DURATION = re.compile(
    r"\b(al (\w+ )?(dagen|weken|maanden|jaren|jaar|tijden|een tijd|lang)|sinds|elke|iedere|"
    r"steeds|telkens|regelmatig|vaak|soms|geregeld|weer eens)\b"
)
ONLINE = re.compile(
    r"\b(online|internet|twitter|x|facebook|insta|instagram|tiktok|whatsapp|app|appje|appjes|"
    r"mail|e-mail|sms|social media|sociale media|linkedin|youtube|telegram|berichten|reacties|dm)\b"
)
SENTENCE = re.compile(r"[.?\n]+")
COMPILED = tuple((name, re.compile(pattern), guards) for name, pattern, guards in RULES)


@dataclass(frozen=True)
class Danger:
    """Which safety rule fired on which part of the message."""

    rule: str
    phrase: str


def normalise(text: str) -> str:
    """Lower-case, strip accents, straighten quotes and collapse white space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("\u2019", "'").replace("\u2018", "'").lower()
    return " ".join(plain.split())


def _guarded(guards: frozenset[str], sentence: str, upto: str, whole: str) -> bool:
    """True when a guard says this sentence is a story, a question or an online matter."""
    urgent = NOW.search(whole) is not None
    if "past" in guards and PAST.search(whole) and not urgent:
        return True
    # Only a condition before or inside the danger phrase makes it hypothetical ("wat doe ik
    # als er iemand met een mes staat"); one after it does not ("er staat iemand met een mes,
    # wat doe ik als hij binnenkomt").
    if "hypo" in guards and HYPO.search(upto) and not urgent:
        return True
    if "duration" in guards and DURATION.search(sentence):
        return True
    return "online" in guards and ONLINE.search(sentence) is not None


def find_danger(text: str) -> Danger | None:
    """Return the first danger rule that fires on `text`, or None."""
    whole = normalise(text)
    for sentence in SENTENCE.split(whole):
        for name, pattern, guards in COMPILED:
            match = pattern.search(sentence)
            if match and not _guarded(guards, sentence, sentence[: match.end()], whole):
                return Danger(rule=name, phrase=match.group(0))
    return None


def is_emergency(text: str) -> bool:
    """True when `text` clearly describes danger happening right now."""
    return find_danger(text) is not None
