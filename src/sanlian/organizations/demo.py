"""Deterministic demo data at three scales: small (demo, tests), medium and city.

Everything comes from one `random.Random(seed)`; rows go in with bulk inserts in batches.
The whole load is one transaction, so a load that dies leaves nothing and a re-run completes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from django.db import models, transaction

from sanlian.core import audit, crypto
from sanlian.core.models import AuditAction
from sanlian.core.roles import Role
from sanlian.core.validators import generate_resident_id, make_credit_code, mask_resident_id

from .models import (
    Community,
    Membership,
    Organization,
    OrgKind,
    Person,
    Qualification,
    SocialWorker,
    Tier,
    Volunteer,
)


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
NEW_EMPLOYMENT = {"顺丰速运", "美团外卖", "滴滴出行"}
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
        out.extend(model.objects.bulk_create(batch, batch_size=BATCH))  # type: ignore[attr-defined]
    return out


class Generator:
    def __init__(self, scale: str, seed: int, progress: Callable[[str], None] | None = None):
        self.name = scale
        self.scale = SCALES[scale]
        self.rng = random.Random(seed)
        self.progress = progress or (lambda _msg: None)
        self.counts: dict[str, int] = {}

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

        # People with valid ID numbers; a share are union members.
        region_of = {c.pk: DISTRICT_CODES[districts.index(c.district)] for c in communities}
        today = date(2026, 11, 1)
        worker_counts: dict[int, int] = {}
        retiree_counts: dict[int, int] = {}

        def people() -> Iterator[Person]:
            for i in range(s.people):
                c = communities[i % len(communities)]
                sex = rng.choice("MF")
                age = rng.randint(18, 85)
                born = today - timedelta(days=age * 365 + rng.randint(0, 364))
                number = generate_resident_id(
                    region_of[c.pk], born, (i * 7 + rng.randint(0, 6)) % 1000
                )
                retired = age >= (60 if sex == "M" else 55)
                workplace = "" if retired else rng.choice(WORKPLACES)
                counts = retiree_counts if retired else worker_counts
                counts[c.pk] = counts.get(c.pk, 0) + 1
                p = Person(
                    name=self.person_name(sex),
                    sex=sex,
                    birth_date=born,
                    phone=self.mobile(),
                    community=c,
                    address=f"{c.address}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元",
                    workplace=workplace,
                    is_retired=retired,
                    is_new_employment=workplace in NEW_EMPLOYMENT,
                    id_number_encrypted=crypto.encrypt(number),
                    id_number_hash=crypto.search_hash(number),
                    id_number_masked=mask_resident_id(number),
                )
                yield p

        persons = _bulk(Person, people())
        self.progress("people")
        for c in communities:
            c.worker_count = worker_counts.get(c.pk, 0)
            c.retiree_count = retiree_counts.get(c.pk, 0)
        Community.objects.bulk_update(
            communities, ["worker_count", "retiree_count"], batch_size=BATCH
        )

        def memberships() -> Iterator[Membership]:
            for idx, p in enumerate(persons):
                if rng.random() < (0.55 if not p.is_retired else 0.35):
                    joined = date(rng.randint(1990, 2025), rng.randint(1, 12), rng.randint(1, 28))
                    yield Membership(
                        person=p,
                        union=p.community.organization,
                        card_number=f"SY{joined.year}{idx:08d}",
                        joined_on=joined,
                        last_dues_on=today - timedelta(days=rng.randint(0, 300)),
                    )

        n_members = len(_bulk(Membership, memberships()))
        self.progress("memberships")

        # Social workers are working-age people employed by a social organisation.
        working = [p for p in persons if not p.is_retired]
        rng.shuffle(working)
        sw_people = working[: s.social_workers]
        # The first social organisation (the demo manager's) always has a few staff.
        for i, p in enumerate(sw_people):
            p.employer = social_orgs[0] if i < 3 else rng.choice(social_orgs)
        Person.objects.bulk_update(sw_people, ["employer"], batch_size=BATCH)
        quals = (
            [Qualification.ASSISTANT] * 5
            + [Qualification.SOCIAL_WORKER] * 3
            + [Qualification.SENIOR]
        )
        social_workers = _bulk(
            SocialWorker,
            [
                SocialWorker(
                    person=p,
                    organization=p.employer,
                    qualification=rng.choice(quals),
                    certificate_number=f"SW{2015 + i % 10}{i:07d}",
                    is_supervisor=i % 7 == 0,
                )
                for i, p in enumerate(sw_people)
            ],
        )
        vol_pool = working[s.social_workers :] + [p for p in persons if p.is_retired]
        team_of = {t.parent_id: t for t in teams}
        volunteers = _bulk(
            Volunteer,
            [
                Volunteer(
                    person=p,
                    team=team_of[p.community.organization_id],
                    skills="、".join(rng.sample(SKILLS, 2)),
                    availability=[f"{d}:{part}" for d in (5, 6) for part in ("am", "pm")]
                    if rng.random() < 0.6
                    else ["1:evening", "3:evening"],
                    hours_logged=rng.randint(0, 400),
                )
                for p in vol_pool[: s.volunteers]
            ],
        )
        self.progress("social workers and volunteers")

        users = self.demo_users(
            city,
            districts[0],
            unions[0],
            party_orgs[0],
            social_orgs[0],
            social_workers[0],
            volunteers[0],
            evaluator,
        )
        self.counts = {
            "organizations": Organization.objects.count(),
            "communities": len(communities),
            "people": len(persons),
            "members": n_members,
            "social_workers": len(social_workers),
            "volunteers": len(volunteers),
            "users": len(users),
        }
        return self.counts

    def demo_users(
        self,
        city: Organization,
        district: Organization,
        community_union: Organization,
        party_org: Organization,
        social_org: Organization,
        social_worker: SocialWorker,
        volunteer: Volunteer,
        evaluator: Organization,
    ) -> list[Any]:
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
        users = []
        for username, full_name, org, role, person in specs:
            user = User(username=username, full_name=full_name, organization=org)
            user.set_password(DEMO_PASSWORD)
            user.save()
            RoleGrant.objects.create(user=user, role=role)
            if person is not None:
                person.user = user
                person.save(update_fields=["user"])
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
