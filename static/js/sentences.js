// Splitting a reply into sentences, so speech can start at the first one. The twin of
// mybella/core/sentences.py (read its docstring for the rule); both run the cases in
// voices/tests/data/sentences.json.

export const MAX_SENTENCE_CHARS = 240;

const ABBREVIATIONS = new Set("mr mrs ms dr prof sr jr st mt vs etc e.g i.e approx no fig ca cf al".split(" "));
const EMOJI = "(?:[\\u{1F000}-\\u{1FAFF}\\u{2600}-\\u{27BF}]|\\u{FE0F}|\\u{200D})";
const BOUNDARY = new RegExp(`([.!?…]+)(["'”’)\\]]*)((?:[ \\t]*${EMOJI}+)*)(?=\\s|$)`, "gu");
const SOFT_BREAK = /[,;:—–]\s/gu;

const isLower = (ch) => ch !== ch.toUpperCase() && ch === ch.toLowerCase();

function endsSentence(line, start, match) {
  const after = line.slice(match.index + match[0].length).trimStart();
  if (!after) return false; // the next words decide, and they have not come yet
  const punct = match[1];
  if ([".", "...", "…"].includes(punct) && isLower(after[0])) return false;
  if (punct === ".") {
    const words = line.slice(start, match.index).trim().split(/\s+/u);
    const word = words[words.length - 1].replace(/^[("'“‘]+/u, "").toLowerCase();
    if (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word)) return false;
  }
  return true;
}

function bounded(sentence, maxChars) {
  const pieces = [];
  while (sentence.length > maxChars) {
    const head = sentence.slice(0, maxChars + 1);
    let cut = 0;
    for (const m of head.matchAll(SOFT_BREAK)) {
      const end = m.index + m[0].length;
      if (end > Math.floor(maxChars / 3)) cut = Math.max(cut, end);
    }
    if (!cut) cut = head.lastIndexOf(" ") + 1;
    if (cut <= 0) cut = maxChars;
    pieces.push(sentence.slice(0, cut).trim());
    sentence = sentence.slice(cut).trim();
  }
  return sentence ? [...pieces, sentence] : pieces;
}

/**
 * Return `text`'s sentences in order, none longer than `maxChars`. The last one may be
 * unfinished while `text` is still arriving: a boundary counts once the next word begins.
 */
export function splitSentences(text, maxChars = MAX_SENTENCE_CHARS) {
  const sentences = [];
  for (const line of text.split("\n")) {
    let start = 0;
    for (const match of line.matchAll(BOUNDARY)) {
      if (endsSentence(line, start, match)) {
        const end = match.index + match[0].length;
        sentences.push(...bounded(line.slice(start, end).trim(), maxChars));
        start = end;
      }
    }
    sentences.push(...bounded(line.slice(start).trim(), maxChars));
  }
  return sentences.filter(Boolean);
}
