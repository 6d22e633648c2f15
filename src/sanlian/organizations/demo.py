"""Deterministic demo data at three scales: small (demo, tests), medium and city.

Everything comes from one `random.Random(seed)`; rows go in with bulk inserts in batches.
The whole load is one transaction, so a load that dies leaves nothing and a re-run completes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

from sanlian.core import audit, crypto
from sanlian.core.bulk import Writer
from sanlian.core.models import AuditAction
from sanlian.core.roles import Role
from sanlian.core.validators import make_credit_code, mask_resident_id

from .models import (
    Community,
    CommunityAreaPeriod,
    Household,
    HouseholdMember,
    Membership,
    NewEmploymentKind,
    Organization,
    OrgKind,
    Person,
    PersonTag,
    Qualification,
    Relation,
    ServiceField,
    SocialWorker,
    Tier,
    Venue,
    VenueKind,
    Volunteer,
    VolunteerHourLog,
    VulnerabilityTag,
)
from .models.people import fill_search_text
from .models.workforce import HourLogStatus, split_hours
from .pinyin import search_keys


@dataclass(frozen=True)
class Scale:
    districts: int
    streets_per_district: int
    communities: int
    people: int
    social_orgs: int
    social_workers: int
    volunteers: int


SCALES = {
    "small": Scale(2, 2, 8, 320, 6, 18, 40),
    "medium": Scale(13, 16, 150, 100_000, 300, 1_500, 10_000),
    "city": Scale(13, 16, 1_500, 1_000_000, 3_000, 15_000, 100_000),
}

DEMO_PASSWORD = "Sanlian#2026"  # noqa: S105  (printed for the demo on purpose)
# Fixed TOTP secrets for the three demo administrators (hex, 20 bytes), printed with them.
DEMO_TOTP_KEYS = {
    "sysadmin": "3132333435363738393031323334353637383930",
    "secadmin": "4142434445464748494a4b4c4d4e4f5051525354",
    "auditadmin": "6162636465666768696a6b6c6d6e6f7071727374",
}

CITY = "沈阳市"
DISTRICT_NAMES = [
    "和平区",
    "沈河区",
    "大东区",
    "皇姑区",
    "铁西区",
    "苏家屯区",
    "浑南区",
    "沈北新区",
    "于洪区",
    "辽中区",
    "新民市",
    "康平县",
    "法库县",
]
DISTRICT_CODES = [
    "210102",
    "210103",
    "210104",
    "210105",
    "210106",
    "210111",
    "210112",
    "210113",
    "210114",
    "210115",
    "210181",
    "210123",
    "210124",
]
SMALL_STREETS = [["南湖街道", "太原街街道"], ["五里河街道", "大西街道"]]
SMALL_COMMUNITIES = [
    ("凯旋社区", Tier.STAR),
    ("文安社区", Tier.ORDINARY),
    ("丽都社区", Tier.WEAK),
    ("青年社区", Tier.ORDINARY),
    ("晨兴社区", Tier.STAR),
    ("惠工社区", Tier.WEAK),
    ("风雨坛社区", Tier.ORDINARY),
    ("万柳塘社区", Tier.WEAK),
]
STREET_STEMS = [
    "长青",
    "新华",
    "北陵",
    "光荣",
    "卫工",
    "兴华",
    "泰山",
    "浑河",
    "望湖",
    "银河",
    "启工",
    "重工",
    "保工",
    "八一",
    "滂江",
    "东陵",
]
COMMUNITY_STEMS = [
    "和平",
    "幸福",
    "阳光",
    "春晖",
    "康乐",
    "福安",
    "锦绣",
    "友谊",
    "祥和",
    "安居",
    "翠湖",
    "明珠",
    "朝阳",
    "东风",
    "兴隆",
    "德胜",
    "育才",
    "金桥",
    "丰收",
    "百合",
    "紫荆",
    "长虹",
    "新华",
    "红旗",
    "建设",
    "光明",
    "永安",
    "文华",
]
SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "徐",
    "孙",
    "胡",
    "朱",
    "高",
    "林",
    "何",
    "郭",
    "马",
    "罗",
    "梁",
    "宋",
    "郑",
    "谢",
    "韩",
    "唐",
    "冯",
    "于",
    "董",
    "萧",
    "程",
    "曹",
    "袁",
    "邓",
    "许",
    "傅",
    "沈",
    "曾",
    "彭",
    "吕",
    "苏",
    "卢",
    "蒋",
    "蔡",
    "贾",
    "丁",
    "魏",
    "薛",
    "叶",
    "阎",
    "余",
    "潘",
    "杜",
    "戴",
    "夏",
    "钟",
    "汪",
    "田",
    "任",
    "姜",
    "范",
    "方",
    "石",
    "姚",
    "谭",
    "廖",
    "邹",
    "熊",
    "金",
    "陆",
    "郝",
    "孔",
    "白",
    "崔",
    "康",
    "毛",
    "邱",
    "秦",
    "江",
    "史",
    "顾",
    "侯",
    "邵",
    "孟",
    "龙",
    "万",
    "段",
    "单",
    "仇",
]
GIVEN_MALE = [
    "伟",
    "强",
    "磊",
    "军",
    "勇",
    "杰",
    "涛",
    "斌",
    "超",
    "明",
    "刚",
    "平",
    "辉",
    "鹏",
    "华",
    "飞",
    "鑫",
    "波",
    "宇",
    "浩",
    "凯",
    "健",
    "俊",
    "帆",
    "帅",
    "旭",
    "宁",
    "龙",
    "林",
    "博",
    "志",
    "国",
    "建",
    "文",
    "海",
    "东",
]
GIVEN_FEMALE = [
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "艳",
    "娟",
    "霞",
    "秀",
    "玲",
    "桂",
    "英",
    "婷",
    "雪",
    "慧",
    "莹",
    "晶",
    "颖",
    "琳",
    "倩",
    "欣",
    "悦",
    "佳",
    "雯",
    "璐",
    "洁",
    "梅",
    "兰",
    "红",
    "燕",
    "萍",
    "丹",
    "蕾",
    "琴",
    "云",
]
ROADS = [
    "中山路",
    "南京街",
    "北京街",
    "青年大街",
    "三好街",
    "文艺路",
    "惠工街",
    "北陵大街",
    "长青街",
    "南湖路",
    "万柳塘路",
    "彩塔街",
]
WORKPLACES = [
    "沈阳机床厂",
    "华晨宝马",
    "沈阳地铁",
    "盛京医院",
    "中街大悦城",
    "沈阳供电公司",
    "顺丰速运",
    "美团外卖",
    "滴滴出行",
    "沈阳市第二十中学",
    "东软集团",
    "沈阳鼓风机厂",
]
NEW_EMPLOYMENT = {
    "顺丰速运": NewEmploymentKind.COURIER,
    "美团外卖": NewEmploymentKind.RIDER,
    "滴滴出行": NewEmploymentKind.RIDE_HAILING,
}
SOCIAL_ORG_STEMS = ["阳光", "馨家", "益民", "同心", "助力", "善行", "和悦", "启航", "暖心", "乐龄"]
SOCIAL_ORG_KINDS = ["社会工作服务中心", "社工事务所", "社区服务中心", "公益服务中心"]
SKILLS = [
    "法律咨询",
    "心理疏导",
    "义诊",
    "课业辅导",
    "家电维修",
    "理发",
    "文艺",
    "摄影",
    "助老",
    "信息技术",
]

# When the Three Links pilots began: the demo's area history starts there.
PILOT_START = date(2021, 1, 1)
OPENING_HOURS = [
    "周一至周五 8:30-17:00；周六 9:00-12:00",
    "周一至周五 9:00-17:00",
    "周一至周日 8:00-20:00",
    "周二至周六 9:00-18:00；周日 9:00-12:00",
    "工作日 17:30-21:00；周末 9:00-17:00",
]

M = TypeVar("M", bound=models.Model)
# (name, kind, parent, extra fields) of one organisation to create
OrgSpec = tuple[str, str, Organization | None, dict[str, Any]]
BATCH = 5000


def _batched(items: Iterator[M], size: int = BATCH) -> Iterator[list[M]]:
    batch: list[M] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk(model: type[M], items: Iterator[M] | list[M]) -> list[M]:
    out: list[M] = []
    for batch in _batched(iter(items)):
        for item in batch:
            fill_search_text(item)  # bulk inserts skip the pre_save that fills search keys
        out.extend(model.objects.bulk_create(batch, batch_size=BATCH))  # type: ignore[attr-defined]
    return out


# -- the people's tables, written by COPY (`sanlian.core.bulk.Writer`) -----------------------

# Every concrete column of each model, in the models' order (the writer checks them).
PEOPLE_MODELS: tuple[Any, ...] = (
    Person,
    Membership,
    SocialWorker,
    Volunteer,
    Household,
    HouseholdMember,
    PersonTag,
    VolunteerHourLog,
)
PEOPLE_COLUMNS: dict[Any, tuple[str, ...]] = {
    model: tuple(f.attname for f in model._meta.concrete_fields) for model in PEOPLE_MODELS
}


def _row_maker(
    model: Any, columns: tuple[str, ...], given: tuple[str, ...]
) -> Callable[..., tuple[Any, ...]]:
    """A row of `columns` from the values of `given` (in that order), every other column at
    the model field's default, as the ORM would have inserted it."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    defaults = [fields[c].get_default() for c in columns]
    # Mutable defaults (a JSON list) must not be shared between rows: none is left to them.
    positions = [columns.index(c) for c in given]
    missing = [c for c in columns if c not in given and fields[c].has_default()]
    if any(isinstance(fields[c].get_default(), list | dict) for c in missing):
        raise ValueError(f"{model.__name__}: give the mutable defaults of {missing}")
    if positions == list(range(len(positions))) and len(given) == len(columns):
        return lambda *values: values
    template = tuple(defaults)

    def make(*values: Any) -> tuple[Any, ...]:
        row = list(template)
        for i, v in zip(positions, values, strict=True):
            row[i] = v
        return tuple(row)

    return make


# The sums of the weighted digits of the last three digits of a resident ID's body, and the
# check characters by the remainder (`validators.generate_resident_id`, without its checks).
_RID_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))
_RID_SEQUENCES = [
    (f"{s:03d}", sum(int(d) * w for d, w in zip(f"{s:03d}", _RID_WEIGHTS[14:], strict=True)))
    for s in range(1000)
]
_RID_CHECK = ["X" if (12 - r) % 11 == 10 else str((12 - r) % 11) for r in range(11)]


class _ResidentIds:
    """`generate_resident_id(region, born, sequence)` without its checks, the sums of the
    weighted digits of each region and each birth date remembered (a million people share
    a few thousand of them)."""

    def __init__(self) -> None:
        self.regions: dict[str, int] = {}
        self.dates: dict[date, tuple[str, int]] = {}

    def __call__(self, region: str, born: date, sequence: int) -> str:
        region_sum = self.regions.get(region)
        if region_sum is None:
            region_sum = self.regions[region] = sum(
                int(d) * w for d, w in zip(region, _RID_WEIGHTS[:6], strict=True)
            )
        day = self.dates.get(born)
        if day is None:
            text = f"{born:%Y%m%d}"
            day = self.dates[born] = (
                text,
                sum(int(d) * w for d, w in zip(text, _RID_WEIGHTS[6:14], strict=True)),
            )
        digits, value = _RID_SEQUENCES[sequence]
        return region + day[0] + digits + _RID_CHECK[(region_sum + day[1] + value) % 11]


class _Ids:
    """The next ids of one of the writer's models, taken one by one."""

    def __init__(self, writer: Writer, model: Any) -> None:
        self.writer, self.model = writer, model

    def next(self) -> int:
        return self.writer.new_id(self.model)


class _Person:
    """A person as the seed needs it before its row is written (at the end of the people)."""

    __slots__ = (
        "address",
        "birth_date",
        "community",
        "employer",
        "id_number_encrypted",
        "id_number_hash",
        "id_number_masked",
        "is_retired",
        "name",
        "new_employment_kind",
        "phone",
        "pk",
        "sex",
        "user_id",
        "workplace",
    )

    def __init__(
        self,
        pk: int,
        name: str,
        sex: str,
        birth_date: date,
        phone: str,
        community: Community,
        address: str,
        workplace: str,
        is_retired: bool,
        new_employment_kind: str,
        id_number_encrypted: str,
        id_number_hash: str,
        id_number_masked: str,
    ) -> None:
        self.pk = pk
        self.name = name
        self.sex = sex
        self.birth_date = birth_date
        self.phone = phone
        self.community = community
        self.address = address
        self.workplace = workplace
        self.is_retired = is_retired
        self.new_employment_kind = new_employment_kind
        self.id_number_encrypted = id_number_encrypted
        self.id_number_hash = id_number_hash
        self.id_number_masked = id_number_masked
        self.employer: Organization | None = None
        self.user_id: int | None = None

    @property
    def community_id(self) -> int:
        return self.community.pk

    @property
    def employer_id(self) -> int | None:
        return self.employer.pk if self.employer is not None else None


@dataclass
class _Staff:
    """A social worker of the seed (its row is written when it is made)."""

    pk: int
    person: _Person
    organization: Organization

    @property
    def person_id(self) -> int:
        return self.person.pk


@dataclass
class _Volunteer:
    """A volunteer of the seed (its row is written once its hours are known)."""

    pk: int
    person: _Person
    team: Organization
    skills: str
    availability: list[str]
    hours_logged: Decimal = Decimal("0")
    is_coordinator: bool = False

    @property
    def person_id(self) -> int:
        return self.person.pk


# Later apps add their demo data (registered from their AppConfig.ready(), by name): each runs
# in the seed's transaction once the data above is in, with the generator (its `name`,
# `scale`, `seed`, `progress`), and returns its counts for the seed's result.
ExtraSeeder = Callable[["Generator"], dict[str, int]]
_extra_seeders: dict[str, ExtraSeeder] = {}


def register_seeder(name: str, seeder: ExtraSeeder) -> None:
    _extra_seeders[name] = seeder


class Generator:
    def __init__(self, scale: str, seed: int, progress: Callable[[str], None] | None = None):
        self.name = scale
        self.seed = seed
        self.scale = SCALES[scale]
        self.rng = random.Random(seed)
        # Households, tags, organisational life: a stream of their own, so adding them left
        # every other generated value as it was.
        self.people_rng = random.Random(f"people-{seed}")
        # Venues, area history and social-organisation details: a stream of their own too.
        self.tree_rng = random.Random(f"tree-{seed}")
        # Co-building agreements, union building and trainings: their own stream as well.
        self.cobuilding_rng = random.Random(f"cobuilding-{seed}")
        self.progress = progress or (lambda _msg: None)
        self.counts: dict[str, int] = {}
        self.linked_people: list[_Person] = []  # those given a demo account
        self.writer: Writer

    # -- names -------------------------------------------------------------------------------
    def person_name(self, sex: str) -> str:
        given = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
        n = 1 if self.rng.random() < 0.4 else 2
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(given) for _ in range(n))

    def mobile(self) -> str:
        prefix = self.rng.choice(
            [
                "139",
                "138",
                "137",
                "136",
                "135",
                "150",
                "151",
                "152",
                "186",
                "185",
                "188",
                "131",
                "132",
                "155",
                "177",
                "180",
                "189",
            ]
        )
        return prefix + f"{self.rng.randrange(10**8):08d}"

    # -- the tree ----------------------------------------------------------------------------
    def orgs(
        self, specs: list[tuple[str, str, Organization | None, dict[str, Any]]]
    ) -> list[Organization]:
        """Bulk-create organisations of one level and give them their materialized paths."""
        objs = [Organization(name=n, kind=k, parent=p, **extra) for n, k, p, extra in specs]
        created = _bulk(Organization, objs)
        for o in created:
            o.path = (o.parent.path if o.parent else "/") + f"{o.pk}/"
        Organization.objects.bulk_update(created, ["path"], batch_size=BATCH)
        return created

    def run(self) -> dict[str, int]:
        s = self.scale
        rng = self.rng
        city = self.orgs(
            [(f"{CITY}总工会", OrgKind.FEDERATION, None, {"address": "沈阳市和平区南京北街"})]
        )[0]
        evaluator = self.orgs(
            [
                (
                    "辽宁同创第三方评估中心",
                    OrgKind.EVALUATOR,
                    city,
                    {"credit_code": make_credit_code("210102", 9001)},
                )
            ]
        )[0]
        districts = self.orgs(
            [
                (f"{DISTRICT_NAMES[i]}总工会", OrgKind.DISTRICT_UNION, city, {})
                for i in range(s.districts)
            ]
        )
        street_specs: list[OrgSpec] = []
        for di, d in enumerate(districts):
            for si in range(s.streets_per_district):
                if self.name == "small":
                    name = SMALL_STREETS[di][si]
                else:
                    name = f"{STREET_STEMS[si % len(STREET_STEMS)]}街道"
                street_specs.append((f"{name}工会", OrgKind.STREET_UNION, d, {}))
        streets = self.orgs(street_specs)
        self.progress("streets")

        # Communities, spread round-robin over the streets; tiers ~15 % star, 60 % ordinary.
        comm_specs: list[OrgSpec] = []
        tiers: list[str] = []
        for ci in range(s.communities):
            street = streets[ci % len(streets)]
            if self.name == "small":
                name, tier = SMALL_COMMUNITIES[ci]
            else:
                stem = COMMUNITY_STEMS[ci % len(COMMUNITY_STEMS)]
                name = (
                    f"{stem}{ci // len(COMMUNITY_STEMS) + 1}社区"
                    if ci >= len(COMMUNITY_STEMS)
                    else f"{stem}社区"
                )
                r = rng.random()
                tier = Tier.STAR if r < 0.15 else Tier.ORDINARY if r < 0.75 else Tier.WEAK
            comm_specs.append((f"{name}联合工会", OrgKind.COMMUNITY_UNION, street, {}))
            tiers.append(tier)
        unions = self.orgs(comm_specs)
        district_of: dict[int | None, Organization] = {
            st.pk: d for st in streets for d in [st.parent] if d
        }
        communities = _bulk(
            Community,
            [
                Community(
                    organization=u,
                    name=u.name.removesuffix("联合工会"),
                    street=u.parent,
                    district=district_of[u.parent_id],
                    tier=tier,
                    population=rng.randint(3000, 15000)
                    if tier != Tier.WEAK
                    else rng.randint(2000, 8000),
                    worker_count=0,
                    retiree_count=0,
                    address=f"{CITY}{district_of[u.parent_id].name.removesuffix('总工会')}{rng.choice(ROADS)}{rng.randint(1, 300)}号",
                )
                for u, tier in zip(unions, tiers, strict=True)
            ],
        )
        self.progress("communities")

        # Beside each community union: Party organisation, residents' committee, volunteer team.
        lateral: list[OrgSpec] = []
        for u in unions:
            base = u.name.removesuffix("联合工会")
            lateral += [
                (f"中共{base}委员会", OrgKind.PARTY_ORG, u, {}),
                (f"{base}居民委员会", OrgKind.RESIDENTS_COMMITTEE, u, {}),
                (f"{base}志愿服务队", OrgKind.VOLUNTEER_TEAM, u, {}),
            ]
        lateral_orgs = self.orgs(lateral)
        teams = [o for o in lateral_orgs if o.kind == OrgKind.VOLUNTEER_TEAM]
        party_orgs = [o for o in lateral_orgs if o.kind == OrgKind.PARTY_ORG]

        # Social organisations, based in communities (star communities attract more of them).
        weights = [4 if t == Tier.STAR else 2 if t == Tier.ORDINARY else 1 for t in tiers]
        social_specs: list[OrgSpec] = []
        for i in range(s.social_orgs):
            host = unions[0] if i == 0 else rng.choices(unions, weights)[0]
            district_code = DISTRICT_CODES[districts.index(district_of[host.parent_id])]
            stem = SOCIAL_ORG_STEMS[i % len(SOCIAL_ORG_STEMS)]
            kind = SOCIAL_ORG_KINDS[(i // len(SOCIAL_ORG_STEMS)) % len(SOCIAL_ORG_KINDS)]
            suffix = "" if i < len(SOCIAL_ORG_STEMS) * len(SOCIAL_ORG_KINDS) else f"（{i}）"
            social_specs.append(
                (
                    f"{CITY}{stem}{kind}{suffix}",
                    OrgKind.SOCIAL_ORG,
                    host,
                    {
                        "credit_code": make_credit_code(district_code, i + 1),
                        "legal_representative": self.person_name(rng.choice("MF")),
                        "contact_phone": self.mobile(),
                    },
                )
            )
        social_orgs = self.orgs(social_specs)
        self.progress("organizations")

        # People with valid ID numbers; a share are union members. The rows of the people's
        # tables are written by COPY (`core.bulk.Writer`, ids assigned here in the order the
        # ORM's inserts gave them) from light records: a million model instances, their bulk
        # inserts with foreign keys checked row by row and their bulk updates were most of the
        # seed's time at city scale.
        writer = Writer(PEOPLE_COLUMNS)
        self.writer = writer
        region_of = {c.pk: DISTRICT_CODES[districts.index(c.district)] for c in communities}
        today = date(2026, 11, 1)
        worker_counts: dict[int, int] = {}
        retiree_counts: dict[int, int] = {}

        used_numbers: set[str] = set()
        ids = _Ids(writer, Person)
        search_hash, generate_resident_id = crypto.search_hash, _ResidentIds()
        numbers: list[str] = []
        person_name, mobile = self.person_name, self.mobile
        randint, choice = rng.randint, rng.choice
        persons: list[_Person] = []
        n_communities = len(communities)
        for i in range(s.people):
            c = communities[i % n_communities]
            sex = choice("MF")
            age = randint(18, 85)
            born = today - timedelta(days=age * 365 + randint(0, 364))
            region = region_of[c.pk]
            sequence = (i * 7 + randint(0, 6)) % 1000
            number = generate_resident_id(region, born, sequence)
            while number in used_numbers:  # one ID number is one person
                sequence = (sequence + 1) % 1000
                number = generate_resident_id(region, born, sequence)
            used_numbers.add(number)
            retired = age >= (60 if sex == "M" else 55)
            workplace = "" if retired else choice(WORKPLACES)
            counts = retiree_counts if retired else worker_counts
            counts[c.pk] = counts.get(c.pk, 0) + 1
            name = person_name(sex)
            phone = mobile()
            address = f"{c.address}{randint(1, 30)}栋{randint(1, 6)}单元"
            persons.append(
                _Person(
                    ids.next(), name, sex, born, phone, c, address, workplace, retired,
                    NEW_EMPLOYMENT.get(workplace, ""), "", search_hash(number),
                    mask_resident_id(number),
                )
            )  # fmt: skip
            numbers.append(number)
        del used_numbers
        for p, token in zip(persons, map(crypto.encrypt, numbers), strict=True):
            p.id_number_encrypted = token
        del numbers
        self.progress("people")
        for c in communities:
            c.worker_count = worker_counts.get(c.pk, 0)
            c.retiree_count = retiree_counts.get(c.pk, 0)
        Community.objects.bulk_update(
            communities, ["worker_count", "retiree_count"], batch_size=BATCH
        )

        member_row = _row_maker(Membership, PEOPLE_COLUMNS[Membership], (
            "id", "person_id", "union_id", "card_number", "joined_on", "workplace",
            "last_dues_on", "last_activity_on",
        ))  # fmt: skip
        members: set[int] = set()
        ids = _Ids(writer, Membership)
        people_rng = self.people_rng
        for idx, p in enumerate(persons):
            if rng.random() < (0.55 if not p.is_retired else 0.35):
                joined = date(randint(1990, 2025), randint(1, 12), randint(1, 28))
                last_dues = today - timedelta(days=randint(0, 300))
                # Most members took part in organisational life lately; the rest with old
                # dues are the lapsed ones (会籍预警).
                last_activity = (
                    today - timedelta(days=people_rng.randint(0, 150))
                    if people_rng.random() < 0.85
                    else None
                )
                writer.add(Membership, member_row(
                    ids.next(), p.pk, p.community.organization_id,
                    f"SY{joined.year}{idx:08d}", joined, p.workplace, last_dues, last_activity,
                ))  # fmt: skip
                members.add(p.pk)
        n_members = len(members)
        self.progress("memberships")

        # Social workers are working-age people employed by a social organisation.
        working = [p for p in persons if not p.is_retired]
        rng.shuffle(working)
        sw_people = working[: s.social_workers]
        # The first social organisation (the demo manager's) always has a few staff.
        for i, p in enumerate(sw_people):
            p.employer = social_orgs[0] if i < 3 else rng.choice(social_orgs)
        quals = (
            [Qualification.ASSISTANT] * 5
            + [Qualification.SOCIAL_WORKER] * 3
            + [Qualification.SENIOR]
        )
        worker_row = _row_maker(SocialWorker, PEOPLE_COLUMNS[SocialWorker], (
            "id", "person_id", "organization_id", "qualification", "certificate_number",
            "is_supervisor",
        ))  # fmt: skip
        social_workers: list[_Staff] = []
        for i, p in enumerate(sw_people):
            sw = _Staff(writer.new_id(SocialWorker), p, p.employer)  # type: ignore[arg-type]
            writer.add(SocialWorker, worker_row(
                sw.pk, p.pk, p.employer_id, rng.choice(quals), f"SW{2015 + i % 10}{i:07d}",
                i % 7 == 0,
            ))  # fmt: skip
            social_workers.append(sw)
        vol_pool = working[s.social_workers :] + [p for p in persons if p.is_retired]
        team_of = {t.parent_id: t for t in teams}
        volunteers: list[_Volunteer] = []
        for p in vol_pool[: s.volunteers]:
            skills = "、".join(rng.sample(SKILLS, 2))
            availability = (
                [f"{d}:{part}" for d in (5, 6) for part in ("am", "pm")]
                if rng.random() < 0.6
                else ["1:evening", "3:evening"]
            )
            volunteers.append(
                _Volunteer(
                    writer.new_id(Volunteer), p, team_of[p.community.organization_id],
                    skills, availability,
                )
            )  # fmt: skip
        self.progress("social workers and volunteers")
        n_households = self.households_and_tags(persons, social_workers, volunteers, members)
        self.progress("households")
        n_venues = self.tree_details(communities, tiers, social_orgs)
        self.progress("venues")
        cobuilding_counts = self.cobuilding(
            communities, tiers, districts, social_orgs, [p for p in sw_people if p.employer]
        )

        users = self.demo_users(
            city,
            districts[0],
            unions[0],
            party_orgs[0],
            social_orgs[0],
            social_workers[0],
            # The demo volunteer serves in the demo cadre's community (凯旋), whose cadre confirms.
            next((v for v in volunteers if v.team.parent_id == unions[0].pk), volunteers[0]),
            evaluator,
        )
        n_logs = self.volunteer_hours(volunteers, users)
        # The people last: their rows carry what was decided since (employers, the records
        # entered twice, the demo accounts).
        person_row = _row_maker(Person, PEOPLE_COLUMNS[Person], (
            "id", "name", "sex", "birth_date", "id_number_encrypted", "id_number_hash",
            "id_number_masked", "phone", "community_id", "address", "employer_id", "workplace",
            "is_retired", "new_employment_kind", "is_new_employment", "user_id", "search_text",
        ))  # fmt: skip
        # The search keys of each name once (a million people have a few hundred thousand
        # names, more than the pinyin module's own cache holds).
        keys_of: dict[str, str] = {}
        for p in persons:
            keys = keys_of.get(p.name)
            if keys is None:
                keys = keys_of[p.name] = " " + search_keys(p.name, is_person_name=True)
            writer.add(Person, person_row(
                p.pk, p.name, p.sex, p.birth_date, p.id_number_encrypted, p.id_number_hash,
                p.id_number_masked, p.phone, p.community.pk, p.address, p.employer_id,
                p.workplace, p.is_retired, p.new_employment_kind, bool(p.new_employment_kind),
                p.user_id, keys,
            ))  # fmt: skip
        began = datetime.now()
        writer.finish()
        for p in self.linked_people:
            # What the account's link recorded when it was saved on its own (the audit trail).
            Person(
                id=p.pk, name=p.name, sex=p.sex, birth_date=p.birth_date,
                id_number_encrypted=p.id_number_encrypted, id_number_hash=p.id_number_hash,
                id_number_masked=p.id_number_masked, phone=p.phone, community=p.community,
                address=p.address, employer=p.employer, workplace=p.workplace,
                is_retired=p.is_retired, new_employment_kind=p.new_employment_kind,
                is_new_employment=bool(p.new_employment_kind), user_id=p.user_id,
                search_text=" " + search_keys(p.name, is_person_name=True),
            ).save(update_fields=["user"])  # fmt: skip
        self.progress(
            f"people written in {(datetime.now() - began).total_seconds():.1f} s"
            f" (writes {writer.seconds['write']:.1f} s, rebuilding indexes and constraints"
            f" {writer.seconds['rebuild']:.1f} s, statistics {writer.seconds['analyze']:.1f} s)"
        )
        self.counts = {
            "organizations": Organization.objects.count(),
            "communities": len(communities),
            "people": len(persons),
            "members": n_members,
            "social_workers": len(social_workers),
            "volunteers": len(volunteers),
            "households": n_households,
            "venues": n_venues,
            "volunteer_hour_logs": n_logs,
            "users": len(users),
            **cobuilding_counts,
        }
        for extra in _extra_seeders.values():
            self.counts.update(extra(self))
        return self.counts

    def tree_details(
        self, communities: list[Community], tiers: list[str], social_orgs: list[Organization]
    ) -> int:
        """Where each community has belonged (since the pilots began), the details of the
        social organisations, and venues: a 职工之家 and a 服务站 for most communities, fewer
        in weak ones. Returns the number of venues."""
        rng = self.tree_rng
        CommunityAreaPeriod.objects.bulk_create(
            [
                CommunityAreaPeriod(
                    community=c, street=c.street, district=c.district, valid_from=PILOT_START
                )
                for c in communities
            ],
            batch_size=BATCH,
        )
        fields = list(ServiceField.values)
        for org in social_orgs:
            org.service_fields = sorted(rng.sample(fields[:-1], rng.randint(1, 3)))
            org.rating = rng.choice(["", "3A", "3A", "4A", "4A", "5A"])
            org.registration_date = date(rng.randint(2008, 2022), rng.randint(1, 12), 1)
            labels = "、".join(str(ServiceField(f).label) for f in org.service_fields)
            org.business_scope = f"开展{labels}等社会工作服务"
        Organization.objects.bulk_update(
            social_orgs,
            ["service_fields", "rating", "registration_date", "business_scope"],
            batch_size=BATCH,
        )

        def venues() -> Iterator[Venue]:
            for c, tier in zip(communities, tiers, strict=True):
                # Weak communities often lack one or both.
                has_home = tier != Tier.WEAK or rng.random() < 0.5
                has_station = tier != Tier.WEAK or rng.random() < 0.3
                base = c.name.removesuffix("社区")
                if has_home:
                    yield Venue(
                        community=c,
                        kind=VenueKind.WORKERS_HOME,
                        name=f"{base}职工之家",
                        address=c.address,
                        area=Decimal(rng.randint(60, 300)),
                        capacity=rng.choice([20, 30, 40, 60, 80]),
                        opening_hours=rng.choice(OPENING_HOURS),
                        is_shared=rng.random() < 0.6,
                    )
                if has_station:
                    yield Venue(
                        community=c,
                        kind=VenueKind.SERVICE_STATION,
                        name=f"{base}职工服务站",
                        address=c.address,
                        area=Decimal(rng.randint(30, 120)),
                        capacity=rng.choice([10, 15, 20, 30]),
                        opening_hours=rng.choice(OPENING_HOURS),
                        is_shared=rng.random() < 0.3,
                    )

        return len(_bulk(Venue, venues()))

    def households_and_tags(
        self,
        persons: list[_Person],
        social_workers: list[_Staff],
        volunteers: list[_Volunteer],
        members: set[int],
    ) -> int:
        """Households of 1-4 people of one community (most residents live in one), tags of
        vulnerable situations on some, and three records entered twice (same name and phone,
        one without an ID number) for the 疑似重复 page. `members`: the people with a
        membership."""
        rng = self.people_rng
        w = self.writer
        by_community: dict[int, list[_Person]] = {}
        for p in persons:
            by_community.setdefault(p.community.pk, []).append(p)
        # Entered twice: a second record of someone in the second community (the district
        # account's, not the cadre's), without an ID number and outside any household, so that
        # the pair can be merged (疑似重复).
        linked = {sw.person_id for sw in social_workers} | {v.person_id for v in volunteers}
        first = [p for p in by_community[persons[1].community.pk] if p.pk not in linked]
        twins: list[_Person] = []
        for original, copy in zip(first[0:12:2], first[1:12:2], strict=True):
            if len(twins) == 3 or (original.pk in members and copy.pk in members):
                continue
            copy.name, copy.phone = original.name, original.phone
            copy.id_number_encrypted = copy.id_number_hash = copy.id_number_masked = ""
            twins.append(copy)
        copies = {p.pk for p in twins}

        groups: list[list[_Person]] = []
        for residents in by_community.values():
            pool = [p for p in residents if p.pk not in copies and rng.random() < 0.85]
            rng.shuffle(pool)
            while pool:
                size = min(len(pool), rng.choice((1, 1, 2, 2, 3, 4)))
                groups.append(pool[:size])
                pool = pool[size:]
        household_row = _row_maker(
            Household, PEOPLE_COLUMNS[Household], ("id", "community_id", "address", "head_id")
        )
        link_row = _row_maker(HouseholdMember, PEOPLE_COLUMNS[HouseholdMember], (
            "id", "household_id", "person_id", "relation",
        ))  # fmt: skip
        households = [w.new_id(Household) for _g in groups]
        for pk, g in zip(households, groups, strict=True):
            w.add(Household, household_row(pk, g[0].community.pk, g[0].address, g[0].pk))

        def relation(head: _Person, other: _Person, spouse_taken: bool) -> str:
            years = (head.birth_date - other.birth_date).days // 365
            if years >= 45:
                return Relation.GRANDPARENT
            if years <= -45:
                return Relation.GRANDCHILD
            if years >= 18:
                return Relation.PARENT
            if years <= -18:
                return Relation.CHILD
            if not spouse_taken and other.sex != head.sex:
                return Relation.SPOUSE
            return Relation.SIBLING

        for household, group in zip(households, groups, strict=True):
            w.add(
                HouseholdMember, link_row(w.new_id(HouseholdMember), household, group[0].pk, "self")
            )
            spouse = False
            for other in group[1:]:
                rel = relation(group[0], other, spouse)
                spouse = spouse or rel == Relation.SPOUSE
                w.add(
                    HouseholdMember, link_row(w.new_id(HouseholdMember), household, other.pk, rel)
                )

        tag_row = _row_maker(PersonTag, PEOPLE_COLUMNS[PersonTag], ("id", "person_id", "tag"))
        elderly = [VulnerabilityTag.ELDERLY_ALONE, VulnerabilityTag.EMPTY_NEST]
        others = [t for t in VulnerabilityTag if t not in elderly and t != VulnerabilityTag.OTHER]
        for p in persons:
            if rng.random() < 0.08:
                choices = elderly + others[:3] if p.is_retired else others
                for tag in set(rng.sample(choices, rng.choice((1, 1, 2)))):
                    w.add(PersonTag, tag_row(w.new_id(PersonTag), p.pk, tag))

        return len(households)

    def volunteer_hours(self, volunteers: list[_Volunteer], users: list[Any]) -> int:
        """A few hour logs per volunteer (mostly confirmed, recent ones pending), the cached
        totals to match, and the demo volunteer as their team's coordinator; then the
        volunteers' rows. Dates count back from today so that pending entries stay within the
        90 days a volunteer may log."""
        rng = self.rng
        w = self.writer
        today = timezone.localdate()
        now = timezone.now()
        cadre = next((u for u in users if u.username == "cadre"), None)
        cadre_team_parent = cadre.organization_id if cadre is not None else None
        cadre_id = cadre.pk if cadre is not None else None
        # (weekday or None for any, start, end, activity): evenings and weekends mostly.
        shapes = [
            ((5, 6), time(9, 0), time(11, 30), "社区环境清洁"),
            ((5, 6), time(14, 0), time(17, 0), "四点半课堂课业辅导"),
            ((0, 1, 2, 3, 4), time(18, 30), time(20, 30), "独居老人探访"),
            ((0, 1, 2, 3, 4), time(17, 0), time(19, 0), "社区服务站值班"),
            ((2,), time(9, 0), time(11, 0), "助老送餐"),
        ]
        log_row = _row_maker(VolunteerHourLog, PEOPLE_COLUMNS[VolunteerHourLog], (
            "id", "volunteer_id", "served_on", "start_time", "end_time", "hours",
            "hours_outside", "activity", "place", "status", "created_at", "confirmed_by_id",
            "confirmed_at",
        ))  # fmt: skip
        tz = timezone.get_current_timezone()
        evening = time(20, 0)
        one_day = timedelta(days=1)
        zero = Decimal("0")
        n_logs = 0
        for v in volunteers:
            place = f"{v.team.name.removesuffix('志愿服务队')}服务站"
            confirmer = cadre_id if v.team.parent_id == cadre_team_parent else None
            total = zero
            for n in range(rng.randint(1, 5)):
                days, start, end, activity = rng.choice(shapes)
                pending = n == 0 and rng.random() < 0.25
                back = rng.randint(1, 12) if pending else rng.randint(14, 85)
                served_on = today - timedelta(days=back)
                while served_on.weekday() not in days:
                    served_on -= one_day
                hours, outside = split_hours(served_on, start, end)
                confirmed_at = None
                if not pending:
                    confirmed_at = timezone.make_aware(
                        datetime.combine(served_on + one_day, evening), tz
                    )
                    total += hours
                w.add(VolunteerHourLog, log_row(
                    w.new_id(VolunteerHourLog), v.pk, served_on, start, end, hours, outside,
                    activity, place,
                    HourLogStatus.PENDING if pending else HourLogStatus.CONFIRMED, now,
                    None if pending else confirmer, confirmed_at,
                ))  # fmt: skip
                n_logs += 1
            v.hours_logged = total
            # The demo volunteer (the one with an account) coordinates their team.
            v.is_coordinator = v.person.user_id is not None
        volunteer_row = _row_maker(Volunteer, PEOPLE_COLUMNS[Volunteer], (
            "id", "person_id", "team_id", "skills", "availability", "hours_logged",
            "is_coordinator",
        ))  # fmt: skip
        for v in volunteers:
            w.add(Volunteer, volunteer_row(
                v.pk, v.person.pk, v.team.pk, v.skills, v.availability, v.hours_logged,
                v.is_coordinator,
            ))  # fmt: skip
        self.progress("volunteer hours")
        return n_logs

    def cobuilding(
        self,
        communities: list[Community],
        tiers: list[str],
        districts: list[Organization],
        social_orgs: list[Organization],
        staff: list[_Person],
    ) -> dict[str, int]:
        """Co-building agreements (every star community, most others) with their signatories,
        three joint meetings with follow-ups (one overdue), a yearly union-building snapshot
        of every social organisation (about half have a union) and three training sessions."""
        from .models import (
            AgreementParty,
            AgreementStatus,
            CoBuildingAgreement,
            FollowUpItem,
            FollowUpStatus,
            JointMeeting,
            MeetingAttendance,
            PartyRole,
            TrainingAttendance,
            TrainingSession,
            TrainingTopic,
            UnionBuilding,
        )

        rng = self.cobuilding_rng
        lateral = Organization.objects.filter(
            kind__in=[OrgKind.PARTY_ORG, OrgKind.RESIDENTS_COMMITTEE],
            parent_id__in=[c.organization_id for c in communities],
        )
        party_of = {o.parent_id: o for o in lateral if o.kind == OrgKind.PARTY_ORG}
        committee_of = {o.parent_id: o for o in lateral if o.kind == OrgKind.RESIDENTS_COMMITTEE}
        hosted: dict[int | None, list[Organization]] = {}
        for o in social_orgs:
            hosted.setdefault(o.parent_id, []).append(o)

        # -- agreements: the Party organisation, the joint union, the residents' committee
        # and up to two social organisations based in the community sign.
        agreements: list[CoBuildingAgreement] = []
        signers: list[list[tuple[Organization, str, str]]] = []
        for i, (c, tier) in enumerate(zip(communities, tiers, strict=True)):
            if tier != Tier.STAR and rng.random() >= 0.75:
                continue
            expired = tier != Tier.STAR and rng.random() < 0.1
            signed = date(2023 if expired else 2025, rng.randint(1, 12), rng.randint(1, 28))
            years = rng.choice((2, 3))
            agreements.append(
                CoBuildingAgreement(
                    community=c,
                    title=f"{c.name}组织联建协议",
                    document_number=f"LJ-{signed.year}-{i + 1:04d}",
                    signed_on=signed,
                    valid_from=signed,
                    valid_to=signed.replace(year=signed.year + years) - timedelta(days=1),
                    status=AgreementStatus.EXPIRED if expired else AgreementStatus.ACTIVE,
                    commitments=(
                        "一、党组织统筹，每季度召开一次联席会议，研究职工服务重点事项；\n"
                        "二、社区联合工会提供职工之家阵地和购买服务项目经费；\n"
                        "三、社会组织派驻专业社工，开展需求调查、个案和小组服务；\n"
                        "四、各方共同推动辖区社会组织建会入会和《工会法》宣传培训。"
                    ),
                )
            )
            secretary = "李志强" if i == 0 else self.person_name(rng.choice("MF"))
            rows: list[tuple[Organization, str, str]] = [
                (party_of[c.organization_id], PartyRole.PARTY_ORG, secretary),
                (c.organization, PartyRole.UNION, self.person_name(rng.choice("MF"))),
                (
                    committee_of[c.organization_id],
                    PartyRole.RESIDENTS_COMMITTEE,
                    self.person_name(rng.choice("MF")),
                ),
            ]
            rows += [
                (o, PartyRole.SOCIAL_ORG, o.legal_representative)
                for o in hosted.get(c.organization_id, [])[:2]
            ]
            signers.append(rows)
        agreements = _bulk(CoBuildingAgreement, agreements)
        _bulk(
            AgreementParty,
            [
                AgreementParty(
                    agreement=a,
                    organization=org,
                    role=role,
                    signed_on=a.signed_on,
                    signatory_name=name,
                )
                for a, rows in zip(agreements, signers, strict=True)
                for org, role, name in rows
            ],
        )

        # -- joint meetings of the two star communities that lead the demo.
        stars = [a for a in agreements if a.community.tier == Tier.STAR][:2]
        tz = timezone.get_default_timezone()
        plans = [
            (
                stars[0],
                datetime(2026, 6, 18, 14, 30, tzinfo=tz),
                "2026年第二季度联席会议",
                [
                    ("完成辖区新就业形态劳动者入会摸底", 1, date(2026, 9, 30), "in_progress"),
                    ("更新职工之家健身器材", 0, date(2026, 8, 31), "done"),
                ],
            ),
            (
                stars[0],
                datetime(2026, 10, 20, 9, 0, tzinfo=tz),
                "2026年第三季度联席会议",
                [("筹备职工冬季送温暖活动", 1, date(2026, 12, 31), "not_started")],
            ),
        ]
        if len(stars) > 1:
            plans.append(
                (
                    stars[1],
                    datetime(2026, 9, 22, 15, 0, tzinfo=tz),
                    "2026年第三季度联席会议",
                    [("组织社会组织职工参加《工会法》培训", 1, date(2027, 1, 15), "not_started")],
                )
            )
        parties_of: dict[int, list[AgreementParty]] = {}
        for p in AgreementParty.objects.filter(agreement__in=stars).select_related("organization"):
            parties_of.setdefault(p.agreement_id, []).append(p)
        meetings = _bulk(
            JointMeeting,
            [
                JointMeeting(
                    community=a.community,
                    agreement=a,
                    title=title,
                    held_on=held,
                    place=f"{a.community.name}党群服务中心",
                    chair=parties_of[a.pk][0].signatory_name,
                    minutes=(
                        "会议通报了上季度购买服务项目进展和职工需求调查结果，"
                        "各方围绕职工之家建设、新就业形态劳动者服务和社会组织建会入会进行了讨论。"
                    ),
                    decisions="明确下一阶段重点任务及责任单位，下次会议听取落实情况。",
                )
                for a, held, title, _items in plans
            ],
        )
        attendance: list[MeetingAttendance] = []
        items: list[FollowUpItem] = []
        for meeting, (a, _held, _title, plan_items) in zip(meetings, plans, strict=True):
            parties = parties_of[a.pk]
            for p in parties:
                name = p.signatory_name or self.person_name(rng.choice("MF"))
                attendance.append(
                    MeetingAttendance(
                        meeting=meeting,
                        organization=p.organization,
                        attendee_name=name,
                        present=rng.random() < 0.9,
                    )
                )
            for description, owner_index, due, status in plan_items:
                owner = parties[min(owner_index, len(parties) - 1)]
                items.append(
                    FollowUpItem(
                        meeting=meeting,
                        description=description,
                        owner_organization=owner.organization,
                        owner_name=owner.signatory_name,
                        due_on=due,
                        status=status,
                        completed_on=due - timedelta(days=6)
                        if status == FollowUpStatus.DONE
                        else None,
                    )
                )
        _bulk(MeetingAttendance, attendance)
        _bulk(FollowUpItem, items)

        # -- union building: this year's snapshot of every social organisation, and last
        # year's for the history; about half have founded their own union.
        staff_of: dict[int | None, list[_Person]] = {}
        for p in staff:
            staff_of.setdefault(p.employer_id, []).append(p)
        snapshots: list[UnionBuilding] = []
        for i, o in enumerate(social_orgs):
            founded = i == 0 or rng.random() < 0.5
            founded_on = date(rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28))
            staff_now = len(staff_of.get(o.pk, [])) + rng.randint(4, 30)
            staff_before = max(1, staff_now - rng.randint(0, 5))
            # Members join the community joint union before a union of their own exists.
            joined, with_union = rng.uniform(0.05, 0.35), rng.uniform(0.6, 1.0)
            for as_of, count, growth in (
                (date(2025, 12, 31), staff_before, 0.9),
                (date(2026, 10, 31), staff_now, 1.0),
            ):
                was_founded = founded and founded_on <= as_of
                share = (with_union if was_founded else joined) * growth
                snapshots.append(
                    UnionBuilding(
                        organization=o,
                        as_of=as_of,
                        year=as_of.year,
                        union_founded=was_founded,
                        founded_on=founded_on if was_founded else None,
                        union_name=f"{o.name.removeprefix(CITY)}工会" if was_founded else "",
                        staff_count=count,
                        member_count=int(count * share),
                    )
                )
        _bulk(UnionBuilding, snapshots)

        # -- three Trade Union Law training sessions run by district unions.
        def district_of(org: Organization) -> Organization:
            return next(d for d in districts if f"/{d.pk}/" in org.path)

        second = districts[1] if len(districts) > 1 else districts[0]
        sessions = _bulk(
            TrainingSession,
            [
                TrainingSession(
                    topic=TrainingTopic.TRADE_UNION_LAW,
                    title="新《工会法》解读专题培训",
                    held_on=date(2026, 4, 16),
                    place="和平区职工服务中心",
                    trainer="刘明（市总工会法律顾问）",
                    organiser=districts[0],
                    description="2022年修改的《工会法》要点：新就业形态劳动者和社会组织职工入会。",
                ),
                TrainingSession(
                    topic=TrainingTopic.LABOUR_CONTRACT,
                    title="劳动合同与职工维权实务",
                    held_on=date(2026, 7, 9),
                    place="和平区职工服务中心",
                    trainer="陈静（执业律师）",
                    organiser=districts[0],
                    description="劳动合同签订、变更与解除；劳动争议调解与仲裁。",
                ),
                TrainingSession(
                    topic=TrainingTopic.COLLECTIVE_BARGAINING,
                    title="社会组织集体协商培训",
                    held_on=date(2026, 9, 24),
                    place=f"{second.name.removesuffix('总工会')}职工服务中心",
                    trainer="王强（区总工会权益保障部）",
                    organiser=second,
                    description="工资集体协商的程序与要约。",
                ),
            ],
        )
        trainees: list[TrainingAttendance] = []
        for session in sessions:
            pool = [p for p in staff if p.employer and district_of(p.employer) == session.organiser]
            for p in rng.sample(pool, min(len(pool), 12)):
                present = rng.random() < 0.9
                trainees.append(
                    TrainingAttendance(
                        session=session,
                        person_id=p.pk,
                        attendee_name=p.name,
                        organization=p.employer,
                        attended=present,
                        test_score=Decimal(rng.randint(120, 200)) / 2 if present else None,
                    )
                )
            hosts = [o for o in social_orgs if district_of(o) == session.organiser][:2]
            for o in hosts:
                trainees.append(
                    TrainingAttendance(
                        session=session,
                        attendee_name=self.person_name(rng.choice("MF")),
                        organization=o,
                        attended=True,
                        test_score=Decimal(rng.randint(140, 200)) / 2,
                    )
                )
        _bulk(TrainingAttendance, trainees)
        self.progress("co-building and union building")
        return {
            "agreements": len(agreements),
            "joint_meetings": len(meetings),
            "union_building": len(snapshots),
            "training_attendance": len(trainees),
        }

    def demo_users(
        self,
        city: Organization,
        district: Organization,
        community_union: Organization,
        party_org: Organization,
        social_org: Organization,
        social_worker: _Staff,
        volunteer: _Volunteer,
        evaluator: Organization,
    ) -> list[Any]:
        from django.contrib.auth.hashers import make_password
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from sanlian.core.models import RoleGrant, User

        specs = [
            ("city", "刘建国", city, Role.FEDERATION_STAFF, None),
            ("district", "王秀英", district, Role.AREA_STAFF, None),
            ("cadre", "张丽华", community_union, Role.COMMUNITY_CADRE, None),
            ("secretary", "李志强", party_org, Role.PARTY_SECRETARY, None),
            ("orgmanager", "赵敏", social_org, Role.SOCIAL_ORG_MANAGER, None),
            (
                "worker",
                social_worker.person.name,
                social_worker.organization,
                Role.SOCIAL_WORKER,
                social_worker.person,
            ),
            ("volunteer", volunteer.person.name, volunteer.team, Role.VOLUNTEER, volunteer.person),
            ("evaluator", "孙立新", evaluator, Role.EVALUATOR, None),
            ("sysadmin", "系统管理员", city, Role.SYSTEM_ADMIN, None),
            ("secadmin", "安全管理员", city, Role.SECURITY_ADMIN, None),
            ("auditadmin", "审计管理员", city, Role.AUDIT_ADMIN, None),
        ]
        # Every demo account has the same password: hashed once (PBKDF2 takes most of a second).
        password = make_password(DEMO_PASSWORD)
        users = []
        for username, full_name, org, role, person in specs:
            user = User(username=username, full_name=full_name, organization=org)
            user.password = password
            user.save()
            RoleGrant.objects.create(user=user, role=role)
            if person is not None:
                person.user_id = user.pk  # the person's row is written after this
                self.linked_people.append(person)
            if username in DEMO_TOTP_KEYS:
                TOTPDevice.objects.create(
                    user=user, name="demo", key=DEMO_TOTP_KEYS[username], confirmed=True
                )
            users.append(user)
        return users


def is_seeded() -> bool:
    return Organization.objects.filter(kind=OrgKind.FEDERATION).exists()


def seed(
    scale: str, seed: int = 1, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Load demo data unless there already is a city; all or nothing."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    with transaction.atomic():
        if is_seeded():
            return {"skipped": True, "reason": "already seeded"}
        gen = Generator(scale, seed, progress)
        counts = gen.run()
        if connection.vendor == "postgresql":
            # The planner's statistics of every table just filled (the delivery seeder keeps
            # its own up to date as it goes): autovacuum may be off or come minutes later, and
            # without them the dashboards' plans at city scale are several times slower.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        audit.record(
            AuditAction.TASK,
            object_type="demo.seed",
            object_repr=f"seed {scale} {seed}",
            changes=counts,
        )
    return {"skipped": False, **counts}


def demo_accounts() -> list[dict[str, Any]]:
    from sanlian.core.models import User

    out = []
    order = [
        "city",
        "district",
        "cadre",
        "secretary",
        "orgmanager",
        "worker",
        "volunteer",
        "evaluator",
        "sysadmin",
        "secadmin",
        "auditadmin",
    ]
    users = {
        u.username: u
        for u in User.objects.filter(username__in=order).select_related("organization")
    }
    for name in order:
        u = users.get(name)
        if u is None:
            continue
        entry: dict[str, Any] = {
            "role": u.role_names()[0] if u.role_names() else "",
            "role_label": u.role_labels()[0] if u.role_labels() else "",
            "username": u.username,
            "password": DEMO_PASSWORD,
            "name": u.full_name,
            "organization": u.organization.name if u.organization else "",
        }
        if name in DEMO_TOTP_KEYS:
            import base64

            entry["totp_secret"] = base64.b32encode(bytes.fromhex(DEMO_TOTP_KEYS[name])).decode()
        out.append(entry)
    return out
