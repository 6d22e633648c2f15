"""Search keys for Chinese names: the text, its full pinyin and its initials, every reading.

`search_keys("张三", is_person_name=True)` gives "张三 zhangsan zs": a query is matched against
the start of any token, so "zs", "zhang" and "zhangsan" all find 张三. Characters with several
readings (长 chang/zhang, 重 chong/zhong, 行 xing/hang) are indexed under each (pypinyin's
heteronym=True, plus the reading pypinyin picks from the phrase around it, which comes first).
A name has at most `MAX_COMBINATIONS` spellings of each kind, the most likely first: the
combinations are taken in order of how far down each character's list of readings they go.

The surname of a person is read as a surname: plain pypinyin reads 单 dan, 曾 ceng, 解 jie,
仇 chou, where the surname is Shàn, Zēng, Xiè, Qiú. The surname reading is put first and the
character's other readings are kept, so a mistyped search still finds the person.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, pinyin
from pypinyin.converter import UltimateConverter
from pypinyin.core import Pinyin

MAX_COMBINATIONS = 32

# Surname readings (toneless). Sources, checked against each other:
#  - pinyin-pro's surname table, lib/data/surname.ts (github.com/zh-lx/pinyin-pro),
#  - overtrue/pinyin's data/surnames (github.com/overtrue/pinyin), the list quoted in
#    python-pinyin issue #297 (github.com/mozillazg/python-pinyin/issues/297),
#  - 《现代汉语词典》(第7版) entries marked “姓” for 员 Yùn, 召 Shào, 句 Gōu, 尉 Wèi.
# Where the sources give two surname readings (盖 Gě/Gài, 牟 Móu/Mù, 宓 Mì/Fú, 隗 Wěi/Kuí,
# 员 Yùn/Yuán, 翟 Zhái/Dí, 乐 Yuè/Lè, 覃 Qín/Tán, 黑 Hè/Hēi) both are listed, the more
# common first. 尉 alone is Wèi (尉缭, 尉健行); only the compound 尉迟 is Yùchí.
SURNAMES: dict[str, tuple[str, ...]] = {
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "查": ("zha",),
    "朴": ("piao",),
    "盖": ("ge", "gai"),
    "覃": ("qin", "tan"),
    "乐": ("yue", "le"),
    "缪": ("miao",),
    "翟": ("zhai", "di"),
    "员": ("yun", "yuan"),
    "贠": ("yun",),
    "召": ("shao",),
    "繁": ("po",),
    "隗": ("wei", "kui"),
    "宓": ("fu", "mi"),
    "秘": ("bi",),
    "冼": ("xian",),
    "种": ("chong",),
    "重": ("chong",),
    "黑": ("he", "hei"),
    "牟": ("mou", "mu"),
    "折": ("she",),
    "尉": ("wei",),
    "华": ("hua",),
    "任": ("ren",),
    "纪": ("ji",),
    "葛": ("ge",),
    "燕": ("yan",),
    "殷": ("yin",),
    "沈": ("shen",),
    "石": ("shi",),
    "薄": ("bo",),
    "阚": ("kan",),
    "那": ("na",),
    "句": ("gou",),
    "过": ("guo",),
    "红": ("hong",),
    "能": ("nai",),
    "佴": ("nai",),
    "都": ("du",),
    "柏": ("bai",),
    "瞿": ("qu",),
    "宿": ("su",),
    "卜": ("bu",),
    "万": ("wan",),
    "叶": ("ye",),
    "陆": ("lu",),
    "六": ("lu",),
    "贾": ("jia",),
    "藏": ("zang",),
    "居": ("ju",),
    "盛": ("sheng",),
    "和": ("he",),
    "车": ("che",),
    "曲": ("qu",),
    "莘": ("shen", "xin"),
    "褚": ("chu",),
    "俞": ("yu",),
    "蔚": ("wei",),
    "厍": ("she",),
    "乜": ("nie",),
}

COMPOUND_SURNAMES: dict[str, tuple[str, str]] = {
    "欧阳": ("ou", "yang"),
    "司马": ("si", "ma"),
    "诸葛": ("zhu", "ge"),
    "上官": ("shang", "guan"),
    "东方": ("dong", "fang"),
    "皇甫": ("huang", "fu"),
    "尉迟": ("yu", "chi"),
    "万俟": ("mo", "qi"),
    "长孙": ("zhang", "sun"),
    "令狐": ("ling", "hu"),
    "单于": ("chan", "yu"),
    "夏侯": ("xia", "hou"),
    "公孙": ("gong", "sun"),
    "慕容": ("mu", "rong"),
    "司徒": ("si", "tu"),
    "司空": ("si", "kong"),
    "宇文": ("yu", "wen"),
    "澹台": ("tan", "tai"),
    "淳于": ("chun", "yu"),
    "轩辕": ("xuan", "yuan"),
    "端木": ("duan", "mu"),
    "南宫": ("nan", "gong"),
    "钟离": ("zhong", "li"),
    "呼延": ("hu", "yan"),
    "闻人": ("wen", "ren"),
    "赫连": ("he", "lian"),
    "乐正": ("yue", "zheng"),
    "鲜于": ("xian", "yu"),
    "申屠": ("shen", "tu"),
    "公羊": ("gong", "yang"),
    "西门": ("xi", "men"),
    "拓跋": ("tuo", "ba"),
}

_HAN_RUN = re.compile("([\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)")
_NOT_KEY = re.compile(r"[^0-9a-z]+")
_DROP = re.compile(r"[\s'’‘`·・\-]+")


def normalize_query(q: str) -> str:
    """The form a query and the keys are compared in: half-width, lower-case, no spaces or
    apostrophes (xi'an), ü written v (lü → lv, as pypinyin spells it)."""
    text = unicodedata.normalize("NFKC", q).lower()
    text = text.replace("u:", "v").replace("ü", "v")
    return _DROP.sub("", text)


@lru_cache(maxsize=8192)
def _char_readings(ch: str) -> tuple[str, ...]:
    return tuple(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


# Names share their characters and readings: the spellings of a character in a given
# context, and the combinations of spellings (initials above all), are computed once.


# pypinyin's pinyin(text) segments the text into words and converts each word: the same,
# with the conversion of each word (most are one character of a name) remembered.
_PINYIN = Pinyin(UltimateConverter())  # what pypinyin.pinyin() builds for each call


def _pinyin_in_context(text: str) -> list[tuple[str, ...]]:
    """pinyin(text, style=Style.NORMAL, heteronym=True), text being Chinese characters."""
    return [readings for word in _PINYIN.seg(text) for readings in _word_readings(word)]


@lru_cache(maxsize=16384)
def _word_readings(word: str) -> tuple[tuple[str, ...], ...]:
    # A list is taken as words already segmented: this converts `word` as it is.
    return tuple(tuple(r) for r in _PINYIN.pinyin([word], style=Style.NORMAL, heteronym=True))


@lru_cache(maxsize=4096)
def _reading_key(reading: str) -> str:
    return _NOT_KEY.sub("", normalize_query(reading))


@lru_cache(maxsize=16384)
def _han_spellings(ch: str, context: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_dedupe(_reading_key(r) for r in [*context, *_char_readings(ch)]))


@dataclass
class _Unit:
    """A Chinese character with its readings (most likely first), or a run of letters and
    digits with itself as its only spelling."""

    spellings: list[str]
    is_han: bool

    def initials(self) -> list[str]:
        return _dedupe(s[0] for s in self.spellings) if self.is_han else self.spellings


def _units(text: str, *, is_person_name: bool) -> list[_Unit]:
    units: list[_Unit] = []
    for part in _HAN_RUN.split(text):
        if not _HAN_RUN.fullmatch(part):
            run = _NOT_KEY.sub("", normalize_query(part))
            if run:  # punctuation alone is left out
                units.append(_Unit([run], is_han=False))
            continue
        # The reading pypinyin picks from the phrase around a character comes first.
        in_context = _pinyin_in_context(part)
        for ch, context in zip(part, in_context, strict=True):
            readings = list(_han_spellings(ch, tuple(context)))
            units.append(_Unit(readings or [ch], is_han=True))
    if is_person_name and len(text) >= 2:
        _apply_surname(text, units)
    return units


def _apply_surname(text: str, units: list[_Unit]) -> None:
    compound = COMPOUND_SURNAMES.get(text[:2])
    if compound is not None and len(units) >= 2 and units[0].is_han and units[1].is_han:
        for k in (0, 1):
            units[k].spellings = _dedupe([compound[k], *units[k].spellings])
        return
    single = SURNAMES.get(text[0])
    if single is not None and units and units[0].is_han:
        units[0].spellings = _dedupe([*single, *units[0].spellings])


def _best_combinations(options: list[list[str]], cap: int) -> list[str]:
    """Up to `cap` concatenations, one option per unit, in order of the sum of the options'
    ranks (ties broken by position): the likeliest spellings first, without enumerating the
    product, which for a long name with many heteronyms would be huge."""
    return list(_best_combinations_of(tuple(map(tuple, options)), cap))


@lru_cache(maxsize=8192)
def _best_combinations_of(options: tuple[tuple[str, ...], ...], cap: int) -> tuple[str, ...]:
    if not options:
        return ()
    start = (0,) * len(options)
    heap: list[tuple[int, tuple[int, ...]]] = [(0, start)]
    seen = {start}
    out: list[str] = []
    while heap and len(out) < cap:
        cost, index = heapq.heappop(heap)
        out.append("".join(options[k][j] for k, j in enumerate(index)))
        for k, j in enumerate(index):
            if j + 1 < len(options[k]):
                nxt = (*index[:k], j + 1, *index[k + 1 :])
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (cost + 1, nxt))
    return tuple(_dedupe(out))


# Keys computed by search_keys in another process (the reading process of an Excel import,
# which computes them while this one writes the rows), kept until asked for.
_remembered: dict[tuple[str, bool], str] = {}
_REMEMBERED_AT_MOST = 16384


def remember(text: str, *, is_person_name: bool, keys: str) -> None:
    """Keep what `search_keys(text, is_person_name=...)` gave in another process."""
    if len(_remembered) >= _REMEMBERED_AT_MOST:
        _remembered.clear()
    _remembered[(text, is_person_name)] = keys


def search_keys(text: str, *, is_person_name: bool) -> str:
    """Space-separated tokens: the text itself, its full pinyin and its initials (at most
    MAX_COMBINATIONS of each; the initials are the first letters of the same readings, which
    is what pypinyin's Style.FIRST_LETTER gives). Stored behind a space, so a query q matches
    a token's start as " " + q."""
    known = _remembered.pop((text, is_person_name), None)
    if known is not None:
        return known
    return _search_keys(text, is_person_name=is_person_name)


@lru_cache(maxsize=65536)
def _search_keys(text: str, *, is_person_name: bool) -> str:
    compact = "".join(text.split())
    if not compact:
        return ""
    units = _units(compact, is_person_name=is_person_name)
    full = _best_combinations([u.spellings for u in units], MAX_COMBINATIONS)
    initials = _best_combinations([u.initials() for u in units], MAX_COMBINATIONS)
    return " ".join(_dedupe([compact.lower(), *full, *initials]))
