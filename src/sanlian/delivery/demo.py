"""Deterministic demo data of 服务联动, loaded by `sanlian seed` after the data of 组织联建 and
资源联合 (registered as an extra seeder of `sanlian.organizations.demo` from
DeliveryConfig.ready(), after the resources seeder), in the seed's transaction.

The story, at every scale, in the first eight communities and through the services where they
take a time (surveys, groups, activities): a closed needs survey with a few hundred answers
(more in star communities, fewer but present in weak ones) whose needs are linked to project
calls, an open one and a draft; demands in every status, routed by the area's rules (or by hand,
with the correction on record), some overdue, some settled inside the community, each with the
timeline its status implies; case files of the demo social worker and of colleagues she
supervises in every phase of MZ/T 094-2017 (不接案 with its reason, closures with theirs,
referrals accepted, declined and waiting, consent recorded, contacts on evenings and weekends),
their notes encrypted as the models keep them; groups in several phases with members,
sessions, attendance and pre/post scores; activities done (sign-ups, check-ins by code, at the
door and by walk-in, volunteer hours credited, feedback), coming, planned and cancelled. Cases,
groups and activities of the demo organisation count for its running project.

Above the small scale, volume (`VOLUMES`): survey answers, demands with their events, case
files with goals, contacts, follow-ups and referrals, groups with members, sessions and
attendance, activities with registrations, volunteer shifts and their hour logs, spread over
five years (the most recent the fullest: about a third in the last twelve months) and over
every community, star communities the most. Those rows are generated in streams and written
with COPY on PostgreSQL (executemany elsewhere), ids assigned here and the sequences moved on
after; the loaded tables' indexes, unique and foreign-key constraints are dropped first and
built again once at the end (a foreign key checked row by row costs more than the row), so
every constraint still holds when the seed commits, and the tables are analysed (this
project's PostgreSQL runs without autovacuum). The story's demands and case files are built
row by row in the same way (their services stamp every step with the present moment). Encrypted notes of those rows come from a
small pool of ciphertexts encrypted once, and the accounts named in their audit columns
(recorded by, created by) are the demo accounts of the matching role: the real authors have
no accounts in the demo.

Values come from `random.Random` streams of their own, seeded from the seed's number; dates
count back from today.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import logging
import random
import time
from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from sanlian.core import crypto
from sanlian.core.bulk import Writer, allocate
from sanlian.core.models import User
from sanlian.organizations.demo import GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from sanlian.organizations.models import (
    Community,
    Organization,
    OrgKind,
    Person,
    ServiceField,
    SocialWorker,
    SocialWorkerStatus,
    Tier,
    Venue,
    Volunteer,
    VolunteerHourLog,
)
from sanlian.organizations.models.workforce import HourLogStatus, Qualification, split_hours
from sanlian.resources.models import ProjectCall, ProjectStatus, ServiceProject

from .models import (
    Activity,
    ActivityStatus,
    Answer,
    Attainment,
    Case,
    CaseContact,
    CaseFollowUp,
    CaseGoal,
    CasePhase,
    CaseSource,
    ClosureReason,
    ConsentMethod,
    ContactKind,
    Demand,
    DemandCategory,
    DemandChannel,
    DemandEvent,
    DemandEventKind,
    DemandStatus,
    FeedbackBy,
    Group,
    GroupAttendance,
    GroupAttendanceStatus,
    GroupKind,
    GroupMember,
    GroupMemberStatus,
    GroupPhase,
    GroupSession,
    ProblemCategory,
    Question,
    QuestionKind,
    QuestionOption,
    Referral,
    ReferralStatus,
    Registration,
    RoutingCorrection,
    RoutingRule,
    RoutingSource,
    ShareBasis,
    Survey,
    SurveyResponse,
    SurveyStatus,
    VolunteerShift,
)
from .models.activities import CODE_ALPHABET, CODE_LENGTH
from .models.demands import DISPUTE_CATEGORIES
from .services import demands as demand_services

log = logging.getLogger(__name__)

# ---- how much, and when ------------------------------------------------------------------


@dataclass(frozen=True)
class Volume:
    """Rows of the bulk at one scale: survey responses, demands, case files, and the service
    records (case contacts, group attendance, activity registrations, volunteer shifts)."""

    responses: int
    demands: int
    cases: int
    contacts: int
    attendance: int
    registrations: int
    shifts: int

    @property
    def services(self) -> int:
        return self.contacts + self.attendance + self.registrations + self.shifts


VOLUMES = {
    "medium": Volume(200_000, 50_000, 20_000, 140_000, 160_000, 170_000, 30_000),
    "city": Volume(2_000_000, 500_000, 200_000, 1_400_000, 1_600_000, 1_700_000, 300_000),
}
# Share of the bulk in each of the last five years (this one first): growing every year.
YEAR_SHARES = (34, 26, 19, 13, 8)
_YEAR_CUM = [sum(YEAR_SHARES[: i + 1]) / sum(YEAR_SHARES) for i in range(len(YEAR_SHARES))]
TIER_WEIGHT: dict[str, float] = {Tier.STAR: 3.0, Tier.ORDINARY: 2.0, Tier.WEAK: 1.0}
STORY_COMMUNITIES = 8

# ---- what people write -------------------------------------------------------------------

NEEDS = [
    "助老服务",
    "托育/四点半课堂",
    "就业帮扶",
    "心理疏导",
    "法律援助",
    "文体活动",
    "健康义诊",
    "困难帮扶",
    "亲子教育",
    "物业纠纷调解",
]
# How often residents of each tier pick each need (same order as NEEDS); retirees lean to
# elderly care and health, young workers to child care and jobs.
NEED_WEIGHTS: dict[str, tuple[int, ...]] = {
    Tier.STAR: (26, 30, 10, 14, 10, 32, 22, 6, 20, 8),
    Tier.ORDINARY: (28, 24, 18, 12, 14, 20, 22, 14, 14, 12),
    Tier.WEAK: (30, 16, 32, 10, 18, 8, 24, 36, 8, 14),
}
RETIREE_BOOST = (30, -10, -10, 0, 0, 4, 16, 4, -8, 0)
IDENTITIES = ["在职职工", "退休职工", "新就业形态劳动者", "灵活就业及其他"]
AGE_BANDS = ["35岁以下", "35–49岁", "50–59岁", "60岁及以上"]
NEW_WORKER_CONCERNS = ["劳动报酬与计件单价", "职业伤害保障", "休息场所（暖心驿站）", "入会与维权"]
SUGGESTIONS = [
    "希望周末多开展亲子活动",
    "建议职工之家晚上延长开放时间",
    "希望增加老年人智能手机培训",
    "希望定期组织健康义诊",
    "小区停车难，希望协调解决",
    "希望开设四点半课堂",
    "希望多举办招聘会和技能培训",
    "建议增设骑手休息点",
    "希望有律师定期坐班咨询",
    "希望组织广场舞比赛",
]
LONG_SUGGESTIONS = [
    "社区工会组织的活动很好，但宣传不够，很多职工不知道。建议在楼道和微信群里提前发通知，"
    "活动时间尽量安排在下班以后或者周末。",
    "家里老人年纪大了，白天子女上班没人照看，希望社区能提供日间照料或者助餐服务，"
    "哪怕收一点费用也可以。",
    "我们是双职工家庭，孩子放学早，接送很困难，希望社区能办四点半课堂，有老师或者志愿者看护"
    "写作业。",
    "希望工会多关注快递、外卖等新就业形态劳动者，帮助我们解决休息、饮水、充电的问题。",
]

DEMAND_TEXTS: dict[str, list[str]] = {
    DemandCategory.LABOUR: [
        "所在物流公司已拖欠三个月工资，共计约一万二千元，多次与主管沟通未果。",
        "工作中扭伤腰部，公司不认可工伤，请求帮助申请工伤认定。",
        "公司单方面解除劳动合同，没有支付经济补偿金。",
        "加班费长期按最低工资计算，请求工会协助维权。",
    ],
    DemandCategory.HARDSHIP: [
        "丈夫患病住院，家庭收入骤减，孩子下学期学费没有着落，申请困难帮扶。",
        "本人下岗多年，与八十岁老母亲同住，冬季取暖费难以承担。",
        "家中遭遇火灾，衣物家具受损，请求临时救助。",
    ],
    DemandCategory.LEGAL: [
        "房屋租赁合同纠纷，房东拒不退还押金，想咨询如何起诉。",
        "老人去世后子女之间遗产分配有争议，希望得到法律咨询。",
        "网购遭遇诈骗，损失三千元，不知道如何报案和追回。",
    ],
    DemandCategory.PROPERTY: [
        "楼上住户长期漏水，物业推诿不处理，墙面已经发霉。",
        "小区电梯频繁故障，物业维修不及时，老人出行困难。",
        "物业擅自上调停车费，业主意见很大，希望社区出面协调。",
    ],
    DemandCategory.NEIGHBOUR: [
        "楼下邻居夜间经常大声喧哗，多次沟通无果，影响休息。",
        "邻居在楼道堆放杂物，存在消防隐患，协商不成。",
        "邻居饲养的犬只不拴绳，吓到孩子，双方发生争执。",
    ],
    DemandCategory.ELDERLY: [
        "独居老人腿脚不便，希望有志愿者定期上门探访和代购。",
        "想为卧床的父亲申请居家养老上门护理服务。",
        "希望社区长者食堂增加送餐到户服务。",
    ],
    DemandCategory.EDUCATION: [
        "双职工家庭，孩子放学后无人看护，希望社区开办四点半课堂。",
        "随迁子女入学手续办理遇到困难，不清楚需要哪些材料。",
        "孩子沉迷手机游戏，成绩下滑，希望得到家庭教育指导。",
    ],
    DemandCategory.MENTAL: [
        "近期工作压力大，经常失眠焦虑，想预约心理咨询。",
        "母亲去世后父亲情绪低落，很少出门，家人很担心。",
        "孩子中考失利后不愿与人交流，希望得到心理疏导。",
    ],
    DemandCategory.EMPLOYMENT: [
        "失业半年，四十五岁，希望参加技能培训并获得就业推荐。",
        "想考取育婴师证书，咨询是否有免费培训。",
        "外卖骑手想转行网约车司机，咨询考证流程和补贴政策。",
    ],
    DemandCategory.OTHER: [
        "建议在小区健身广场增设照明设施。",
        "咨询职工疗休养政策和报名方式。",
        "希望社区开设老年人智能手机使用培训班。",
    ],
}
RESOLUTIONS: dict[str, list[str]] = {
    DemandCategory.LABOUR: [
        "工会法律服务站介入调解，企业同意分两期补发拖欠工资，职工已收到第一期款项。",
        "协助职工准备材料申请工伤认定，人社部门已受理。",
        "经劳动争议调解，企业支付经济补偿金，双方签署调解协议。",
    ],
    DemandCategory.HARDSHIP: [
        "已纳入困难职工帮扶台账，发放临时救助金两千元，并链接爱心企业资助学费。",
        "协助申请冬季取暖补贴，社区工会送去慰问物资。",
    ],
    DemandCategory.LEGAL: [
        "安排律师志愿者一对一咨询，指导其收集证据并通过诉讼服务平台立案。",
        "律师给出法律意见，家属协商达成一致。",
    ],
    DemandCategory.PROPERTY: [
        "社区召集物业、业主代表协商，物业已完成维修并承诺限时响应。",
        "经社区协调，物业暂缓调价并召开业主恳谈会听取意见。",
    ],
    DemandCategory.NEIGHBOUR: [
        "网格员和人民调解员上门调解，双方达成和解并签订邻里公约。",
        "协调清理楼道杂物，双方握手言和。",
    ],
    DemandCategory.ELDERLY: [
        "已安排志愿者每周两次上门探访，并纳入居家养老服务对象。",
        "链接养老服务机构提供上门护理评估，已开始服务。",
    ],
    DemandCategory.EDUCATION: [
        "已将孩子纳入社区四点半课堂，志愿者辅导作业。",
        "社工提供家庭教育指导，家长参加亲子沟通小组。",
    ],
    DemandCategory.MENTAL: [
        "社工完成初步评估后转介专业心理咨询师，已进行三次咨询。",
        "社工开展多次面谈和家访，服务对象情绪明显好转。",
    ],
    DemandCategory.EMPLOYMENT: [
        "推荐参加区总工会组织的免费技能培训，并推送三个岗位信息，已成功就业。",
        "协助报名育婴师培训，发放培训补贴申请表。",
    ],
    DemandCategory.OTHER: [
        "已反馈相关部门，照明设施已安装完成。",
        "工作人员电话解答政策并协助报名。",
    ],
}
REJECT_REASONS = [
    "诉求属于法院已受理案件，不在社区受理范围，已告知诉讼进展查询渠道。",
    "重复提交，已合并至此前登记的诉求办理。",
    "反映事项不属于工会和社区职责，已告知向12345市民热线反映。",
]
FEEDBACK_COMMENTS = {
    5: ["办事效率高，非常满意！", "工作人员很热心，问题解决了。", "感谢社区和工会的帮助。"],
    4: ["总体满意，就是等的时间稍长。", "问题基本解决了，谢谢。"],
    3: ["解决了一部分，希望后续继续跟进。", "处理结果一般。"],
    2: ["处理太慢，来回跑了好几趟。"],
    1: ["问题没有真正解决。"],
}

PROBLEMS: dict[str, list[str]] = {
    ProblemCategory.FINANCIAL: [
        "丈夫因病去世，家中两个孩子上学，仅靠本人在超市打零工维持生活，入不敷出。",
        "下岗后一直未找到稳定工作，房贷逾期，情绪低落。",
        "家中老人长期住院，医疗费用负担沉重，申请困难职工帮扶。",
    ],
    ProblemCategory.EMPLOYMENT: [
        "原单位关停后失业半年，年过四十，求职屡屡碰壁，希望得到技能培训和就业推荐。",
        "外卖骑手，想转行做网约车司机，不了解考证流程和相关政策。",
        "肢体残疾职工，希望找到适合自己的灵活就业岗位。",
    ],
    ProblemCategory.LABOUR: [
        "公司拖欠三个月工资共计一万二千元，多次讨要未果，家庭生活受到影响。",
        "工作中受伤，单位不认可工伤，服务对象不知如何申请工伤认定。",
        "公司单方面解除劳动合同且未支付经济补偿。",
    ],
    ProblemCategory.FAMILY: [
        "夫妻因照顾老人问题长期争吵，孩子出现厌学情绪。",
        "单亲母亲，与青春期儿子沟通困难，冲突频繁。",
        "婆媳矛盾突出，家庭关系紧张，服务对象多次离家。",
    ],
    ProblemCategory.EMOTIONAL: [
        "长期夜班工作，失眠焦虑，对生活失去兴趣。",
        "退休后独居，很少与人交流，感到孤独无助。",
        "遭遇交通事故后出现紧张、回避等反应，不敢独自出门。",
    ],
    ProblemCategory.HEALTH: [
        "独居老人患糖尿病和高血压，行动不便，无人照料服药。",
        "职工本人术后康复期，需要居家护理和康复指导。",
        "家中有重度残疾子女，主要照顾者身心俱疲。",
    ],
    ProblemCategory.CHILDREN: [
        "双职工家庭，孩子放学后无人看护，经常独自在家。",
        "孩子沉迷手机游戏，学习成绩下滑，家长束手无策。",
        "随迁子女入学手续办理困难，孩子面临失学。",
    ],
    ProblemCategory.OTHER: [
        "刚搬入社区，不了解社区服务和办事渠道，生活适应困难。",
        "希望参与社区志愿服务重建社会联系，但缺乏信心。",
    ],
}
INFORMATION = [
    "服务对象与配偶及一名子女同住，家庭月收入约三千元；社区网格员反映其近期情绪低落。",
    "服务对象独居，子女在外地工作，每月回来一次；与邻居关系一般。",
    "服务对象为单亲家庭，育有一子，就读初二；本人在商场从事保洁工作。",
    "服务对象系新就业形态劳动者，工作时间不固定，社会支持网络薄弱。",
]
PROBLEM_ANALYSES = [
    "经济压力大，缺乏稳定收入来源；家庭支持不足；对政策了解有限。",
    "情绪困扰明显，社会交往减少，存在一定的孤立风险。",
    "亲子沟通方式不当，家庭规则不清晰，双方均有较强的挫败感。",
    "劳动权益受损，缺乏维权知识和证据意识。",
]
STRENGTHS = [
    "服务对象求助动机强，愿意配合；有一位关系密切的姐姐可以提供支持。",
    "服务对象有一定的劳动技能和工作经验，身体状况良好。",
    "服务对象关心子女，愿意学习新的沟通方法；社区资源较为丰富。",
]
ASSESSMENTS = [
    "综合评估，服务对象需要经济救助、政策链接和情绪支持，建议开展个案管理。",
    "服务对象的主要需求是情绪疏导和社会支持网络重建，风险等级为低。",
    "建议以家庭为单位开展服务，改善亲子沟通，同时链接教育资源。",
]
HEALTH_NOTES = [
    "患有高血压，需长期服药；近期睡眠质量较差。",
    "术后康复期，需定期复查。",
]
FINANCE_NOTES = [
    "家庭月收入约两千八百元，有房贷每月一千五百元。",
    "领取最低生活保障金，另有少量打零工收入。",
]
AIMS = [
    "帮助服务对象缓解经济困难，恢复正常生活秩序，增强自我发展能力。",
    "改善服务对象的情绪状态，重建社会支持网络。",
    "改善家庭沟通，建立积极的亲子关系。",
    "协助服务对象依法维护劳动权益，获得应得报酬。",
]
STRATEGIES = [
    "个案面谈与家访相结合；链接工会帮扶、民政救助和爱心企业资源；运用优势视角增强其信心。",
    "运用认知行为疗法开展情绪疏导；鼓励参加社区支持小组和志愿服务。",
    "开展家庭会谈，教授非暴力沟通技巧；链接学校和社区教育资源。",
    "提供法律咨询和证据收集指导；链接工会法律服务站和劳动争议调解组织。",
]
GOALS = [
    ("一个月内协助申请困难职工帮扶和临时救助", "救助是否获批及到账金额"),
    ("三个月内帮助服务对象找到稳定工作", "是否签订劳动合同"),
    ("改善睡眠和情绪状态", "焦虑自评量表（SAS）得分下降10分以上"),
    ("每周至少参加一次社区活动", "活动签到记录"),
    ("建立每周一次的家庭会议制度", "家庭会议记录及双方反馈"),
    ("追回被拖欠的工资", "工资是否足额到账"),
    ("链接至少两项社区支持资源", "资源链接清单"),
]
ATTAINMENT_NOTES = [
    "目标已达成，服务对象反馈良好。",
    "大部分达成，后续由社区持续关注。",
    "部分达成，受外部条件限制。",
]
CONTACT_NOTES: dict[str, list[str]] = {
    ContactKind.FACE: [
        "在职工之家面谈，了解近况，服务对象情绪较上次平稳，共同回顾了本周计划的完成情况。",
        "面谈中运用优势视角，引导服务对象梳理自身资源，并约定下次面谈内容。",
        "陪同服务对象到人社服务大厅办理相关手续，过程顺利。",
        "与服务对象共同制定求职计划，修改简历，并模拟面试。",
    ],
    ContactKind.PHONE: [
        "电话跟进，服务对象表示救助申请材料已提交，正在等待审核。",
        "电话回访，服务对象近期睡眠有所改善，提醒按时参加小组活动。",
        "电话沟通，确认下周家访时间。",
    ],
    ContactKind.HOME: [
        "家访，与服务对象及其家人开展家庭会谈，家庭氛围较前改善。",
        "家访送去慰问物资，检查居家安全隐患，协助整理药品。",
        "晚间家访，与下班后的家属共同商讨照护安排。",
    ],
}
EVALUATIONS = [
    "经过三个月的服务，服务对象经济困难得到缓解，情绪稳定，能主动参与社区活动，服务目标基本达成。",
    "服务对象的焦虑症状明显减轻，建立了新的社会支持网络，服务成效显著。",
    "家庭沟通明显改善，亲子冲突减少，服务对象对服务表示满意。",
]
CLOSURE_SUMMARIES: dict[str, list[str]] = {
    ClosureReason.GOALS_MET: [
        "服务目标均已达成，服务对象具备独立应对能力，经督导同意结案，三个月后回访。",
        "服务对象问题已解决，与服务对象共同回顾服务过程，处理离别情绪后结案。",
    ],
    ClosureReason.WITHDREW: ["服务对象因搬离本市，主动提出终止服务，已告知其他求助渠道。"],
    ClosureReason.REFERRED: ["服务对象需要长期专业心理治疗，已转介专业机构，本机构结案。"],
    ClosureReason.CHANGE: ["负责社工离职，服务对象不同意更换社工，经协商结案。"],
}
NOT_TAKEN_REASONS = [
    "服务对象需求为房屋产权纠纷，不属于本机构服务范围，已告知法律援助中心的求助渠道。",
    "服务对象已在其他社工机构接受同类服务，为避免重复服务不予接案。",
    "经初步沟通，服务对象暂无服务意愿，留下联系方式，随时可再求助。",
]
FOLLOW_UPS = [
    "结案后电话回访，服务对象生活稳定，已找到工作。",
    "上门回访，服务对象情绪良好，仍坚持参加社区活动。",
    "回访了解到服务对象家庭关系持续改善，无需再介入。",
]
REFERRAL_REASONS = [
    "服务对象出现明显抑郁症状，超出本机构服务能力，需专业心理治疗。",
    "服务对象的劳动争议需专业法律援助，转介至工会法律服务机构。",
    "服务对象需要长期居家照护服务，转介养老服务机构。",
]
REFERRAL_SUMMARIES = [
    "服务对象近三个月情绪低落、失眠，已完成初步评估，风险等级中等，家属支持良好。",
    "服务对象被拖欠工资三个月，已收集考勤和工资条等证据材料。",
]
DECLINE_REASONS = [
    "本机构近期服务名额已满，建议转介至其他机构。",
    "服务对象居住地不在本机构服务区域内。",
]
PARTNERS = ["社区居委会、区总工会帮扶中心", "社区卫生服务中心", "工会法律服务站", ""]
TIMETABLES = ["每周面谈一次，每两周家访一次，为期三个月", "每两周面谈一次，为期两个月", ""]


@dataclass(frozen=True)
class GroupPlan:
    name: str
    kind: str
    goals: str
    target: str
    scale: tuple[str, int, int, bool]
    themes: tuple[str, ...]


GROUP_PLANS = [
    GroupPlan(
        "“银龄乐活”老年人互助小组",
        GroupKind.SUPPORT,
        "减少独居老人的孤独感，建立老年人之间的互助关系。",
        "社区60岁以上独居或空巢老人",
        ("UCLA孤独感量表", 20, 80, False),
        ("相识相知", "我的故事", "健康生活", "智能手机初体验", "邻里互助", "回顾与展望"),
    ),
    GroupPlan(
        "四点半课堂成长小组",
        GroupKind.GROWTH,
        "培养学生良好的学习习惯和自我管理能力，增强同伴交往。",
        "双职工家庭的小学三至六年级学生",
        ("自尊量表（SES）", 10, 40, True),
        ("破冰之旅", "时间管理小能手", "我的情绪我做主", "合作闯关", "我的优点", "成长分享会"),
    ),
    GroupPlan(
        "新就业形态劳动者减压小组",
        GroupKind.THERAPY,
        "帮助骑手、快递员识别和应对工作压力，建立同伴支持网络。",
        "辖区外卖骑手、快递员和网约车司机",
        ("焦虑自评量表（SAS）", 20, 80, False),
        ("认识压力", "情绪ABC", "放松训练", "权益知多少", "同伴支持", "结业分享"),
    ),
    GroupPlan(
        "困难职工家庭支持小组",
        GroupKind.SUPPORT,
        "增强困难职工家庭的社会支持和应对困难的能力。",
        "纳入帮扶台账的困难职工及其家属",
        ("社会支持评定量表（SSRS）", 12, 66, True),
        ("彼此认识", "家庭优势探索", "政策与资源", "压力应对", "互助计划", "展望未来"),
    ),
    GroupPlan(
        "亲子沟通成长小组",
        GroupKind.EDUCATION,
        "帮助家长掌握有效沟通技巧，改善亲子关系。",
        "有青少年子女的职工家长",
        ("亲子沟通量表", 20, 100, True),
        ("了解孩子", "倾听的艺术", "表达与鼓励", "家庭规则", "冲突化解", "亲子同乐"),
    ),
    GroupPlan(
        "社区文艺骨干小组",
        GroupKind.RECREATION,
        "培养社区文艺骨干，丰富职工群众文化生活。",
        "热爱文艺的社区居民和职工",
        ("社会支持评定量表（SSRS）", 12, 66, True),
        ("相聚一堂", "排练一", "排练二", "走进楼栋", "展演准备", "汇报演出"),
    ),
]


@dataclass(frozen=True)
class ActivityPlan:
    title: str
    when: str  # weekend / evening / day
    description: str
    tasks: tuple[str, ...]


ACTIVITY_PLANS = [
    ActivityPlan(
        "健康义诊进社区",
        "weekend",
        "邀请社区卫生服务中心医生为居民测量血压血糖、解答健康问题。",
        ("引导", "秩序维护", "登记"),
    ),
    ActivityPlan(
        "劳动法律知识讲座",
        "evening",
        "律师讲解劳动合同、工资支付和工伤保险等职工关心的法律问题。",
        ("签到", "会场服务"),
    ),
    ActivityPlan(
        "职工子女手工课堂",
        "weekend",
        "亲子共同完成手工作品，增进亲子交流。",
        ("签到", "材料发放", "看护儿童"),
    ),
    ActivityPlan(
        "重阳节敬老饺子宴",
        "day",
        "邀请社区高龄和独居老人一起包饺子、看节目。",
        ("后厨帮工", "陪伴老人", "摄影"),
    ),
    ActivityPlan(
        "职工趣味运动会",
        "weekend",
        "拔河、跳绳、托球跑等趣味项目，增强职工凝聚力。",
        ("裁判", "计分", "医疗保障"),
    ),
    ActivityPlan(
        "心理健康减压讲座",
        "evening",
        "心理咨询师讲解压力管理与放松技巧。",
        ("签到", "会场服务"),
    ),
    ActivityPlan(
        "就业招聘与技能培训推介会",
        "day",
        "辖区企业现场招聘，推介免费职业技能培训项目。",
        ("引导", "资料发放"),
    ),
    ActivityPlan(
        "消防安全演练",
        "weekend",
        "消防员讲解家庭火灾预防，居民体验灭火器使用。",
        ("秩序维护", "物资准备"),
    ),
    ActivityPlan(
        "春节写春联送福",
        "weekend",
        "书法志愿者为居民书写春联和福字。",
        ("研墨裁纸", "发放春联"),
    ),
    ActivityPlan(
        "广场舞展演",
        "evening",
        "社区文艺队展示广场舞，丰富居民业余生活。",
        ("秩序维护", "音响"),
    ),
]
PLACES = ["社区党群服务中心多功能厅", "社区文化广场", "社区居委会会议室", "小区中心花园"]
CANCEL_REASONS = ["天气原因（大风降温）", "场地临时维修", "报名人数不足，改期举行"]
ACTIVITY_COMMENTS = {
    5: ["活动组织得很好，下次还来！", "孩子特别喜欢。", "讲得很实用。"],
    4: ["挺好的，就是人有点多。", "内容不错，时间可以再长一点。"],
    3: ["一般，希望多一些互动。"],
    2: ["等待时间太长。"],
    1: ["没有按时开始。"],
}
WITHDRAW_REASONS = ["工作时间调整，无法参加", "身体原因", "搬离社区", "家中有事"]


def register() -> None:
    """Called from DeliveryConfig.ready(): after ResourcesConfig's, so after its seeder."""
    from sanlian.organizations import demo

    demo.register_seeder("delivery", seed_delivery)


def seed_delivery(gen: Any) -> dict[str, int]:
    with translation.override("zh-hans"):
        return Seeder(gen).run()


# ---- small helpers -----------------------------------------------------------------------

_MOBILE_PREFIXES = ("139", "138", "137", "135", "150", "151", "186", "188", "131", "155", "177")


def _pick(rng: random.Random, cum: Sequence[float]) -> int:
    """An index drawn by cumulative weights (from `_cum`: the last one is exactly 1)."""
    return bisect.bisect(cum, rng.random())


def _cum(weights: Sequence[float]) -> list[float]:
    whole = float(sum(weights))
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc / whole)
    out[-1] = 1.0
    return out


RATING_CUM = _cum((1, 2, 9, 28, 60))  # activity ratings 1..5


def _days_back(rng: random.Random) -> int:
    """Days before today of a bulk row: in one of the last five years by YEAR_SHARES."""
    return _pick(rng, _YEAR_CUM) * 365 + int(rng.random() * 365)


def _name(rng: random.Random) -> str:
    given = GIVEN_MALE if rng.random() < 0.5 else GIVEN_FEMALE
    name = SURNAMES[int(rng.random() * len(SURNAMES))] + given[int(rng.random() * len(given))]
    return name + given[int(rng.random() * len(given))] if rng.random() < 0.6 else name


def _mobile(rng: random.Random) -> str:
    prefix = _MOBILE_PREFIXES[int(rng.random() * len(_MOBILE_PREFIXES))]
    return f"{prefix}{int(rng.random() * 10**8):08d}"


def _token(rng: random.Random, pk: int, length: int) -> str:
    """A public link's secret: unique through the row's id, unguessable through the rest.
    Its length differs from the models' defaults, so it never equals one of theirs."""
    return f"{pk:010x}{rng.getrandbits(4 * (length - 10)):0{length - 10}x}"


_CODE_SPACE = len(CODE_ALPHABET) ** CODE_LENGTH
_CODE_PAIRS = [a + b for b in CODE_ALPHABET for a in CODE_ALPHABET]


def _code(pk: int, salt: int) -> str:
    """A check-in code from the row's id: distinct ids give distinct codes (a bijection of
    the code space), which do not look sequential."""
    value = (pk * 2_654_435_761 + salt) % _CODE_SPACE
    pairs, n = _CODE_PAIRS, len(_CODE_PAIRS)
    a, value = value % n, value // n
    b, value = value % n, value // n
    c, d = value % n, value // n
    return pairs[a] + pairs[b] + pairs[c] + pairs[d]


# ---- writing rows in bulk (`sanlian.core.bulk.Writer`) ----------------------------------

# The columns each bulk row gives, in order (every concrete field of the model).
COLUMNS: dict[Any, tuple[str, ...]] = {
    Survey: ("id", "title", "intro", "opens_at", "closes_at", "status", "token", "created_by_id",
             "created_at", "published_at"),
    Survey.communities.through: ("id", "survey_id", "community_id"),
    Question: ("id", "survey_id", "seq", "kind", "text", "required", "is_need_question",
               "show_if_option_id"),
    QuestionOption: ("id", "question_id", "seq", "text"),
    SurveyResponse: ("id", "survey_id", "community_id", "nonce", "device_hash", "ip_hash",
                     "submitted_at"),
    Answer: ("id", "response_id", "survey_id", "community_id", "question_id", "option_id",
             "number", "text"),
    RoutingRule: ("id", "owner_id", "category", "community_id", "street_id", "organization_id",
                  "note", "is_active", "created_by_id", "created_at"),
    Demand: ("id", "community_id", "category", "channel", "description", "resident_name",
             "resident_phone", "handler_org_id", "routing_source", "routing_note", "project_id",
             "status", "received_at", "accept_due", "resolve_due", "accepted_at", "resolved_at",
             "closed_at", "resolution", "public_reply", "resolved_in_community", "reject_reason",
             "satisfaction", "feedback_by", "feedback_comment", "token", "created_by_id",
             "created_at"),
    DemandEvent: ("id", "demand_id", "kind", "at", "actor_id", "actor_name", "from_status",
                  "to_status", "organization_id", "note"),
    RoutingCorrection: ("id", "demand_id", "category", "community_id", "street_id",
                        "from_org_id", "to_org_id", "reason", "by_id", "at"),
    Case: ("id", "organization_id", "worker_id", "supervisor_id", "person_id", "project_id",
           "phase", "source", "problem_category", "presenting_problem_encrypted", "opened_on",
           "not_taken_reason", "agreement_on", "consent_on", "consent_method",
           "consent_witness", "information_encrypted", "problems_encrypted",
           "strengths_encrypted", "assessment_summary_encrypted", "health_encrypted",
           "finances_encrypted", "aims_encrypted", "strategies_encrypted", "partners",
           "timetable", "plan_submitted_at", "plan_signed_by_id", "plan_signed_at",
           "evaluation_summary_encrypted", "closure_reason", "closure_summary_encrypted",
           "phase_before_closing", "returned_note", "closure_signed_by_id",
           "closure_signed_at", "closed_on", "created_by_id", "created_at"),
    CaseGoal: ("id", "case_id", "seq", "goal_encrypted", "measure_encrypted", "attainment",
               "attainment_note_encrypted"),
    CaseContact: ("id", "case_id", "kind", "notes_encrypted", "recorded_by_id", "recorded_at",
                  "served_on", "start_time", "end_time"),
    CaseFollowUp: ("id", "case_id", "kind", "notes_encrypted", "recorded_by_id", "recorded_at",
                   "visited_on"),
    Referral: ("id", "case_id", "to_org_id", "reason_encrypted", "share_basis", "consent_on",
               "summary_encrypted", "override_reason", "override_by_id", "status",
               "decided_by_id", "decided_at", "decline_reason", "created_by_id", "created_at"),
    Group: ("id", "name", "kind", "goals", "target_members", "planned_sessions", "leader_id",
            "community_id", "project_id", "scale_name", "scale_min", "scale_max",
            "higher_is_better", "phase", "phase_changed_at", "evaluation", "evaluated_at",
            "created_by_id", "created_at"),
    GroupMember: ("id", "group_id", "person_id", "status", "consent", "applied_on",
                  "withdrawn_reason", "pre_score", "post_score"),
    GroupSession: ("id", "group_id", "number", "held_on", "starts_at", "ends_at", "venue_id",
                   "theme", "activities", "notes", "recorded_by_id", "recorded_at"),
    GroupAttendance: ("id", "session_id", "member_id", "status"),
    Activity: ("id", "title", "community_id", "organizer_id", "project_id", "date",
               "start_time", "end_time", "venue_id", "booking_id", "place", "capacity",
               "seats_taken", "description", "status", "signup_token", "door_token",
               "created_by_id", "created_at", "done_at", "cancelled_reason"),
    Registration: ("id", "activity_id", "name", "phone", "companions", "person_id",
                   "is_walk_in", "code", "token", "created_at", "checked_in_at",
                   "checked_in_by_id", "rating", "comment", "feedback_at"),
    VolunteerShift: ("id", "activity_id", "volunteer_id", "start_time", "end_time", "task",
                     "hour_log_id"),
    VolunteerHourLog: ("id", "volunteer_id", "served_on", "start_time", "end_time", "hours",
                       "hours_outside", "activity", "place", "status", "created_at",
                       "confirmed_by_id", "confirmed_at", "reject_reason"),
}  # fmt: skip


# ---- what the other links gave us ----------------------------------------------------------


@dataclass
class Place:
    """A community as the generators need it."""

    pk: int
    org_id: int
    name: str
    tier: str
    street_id: int
    district_id: int
    weight: float
    committee_id: int | None = None
    party_id: int | None = None
    team_id: int | None = None
    venues: list[tuple[int, str]] = field(default_factory=list)
    local_orgs: list[int] = field(default_factory=list)  # social organisations based here


@dataclass
class Worker:
    pk: int
    person_id: int
    org_id: int
    supervises: bool  # 社会工作师 or above, or flagged as a supervisor


@dataclass
class Ref:
    """Everything the bulk generators read, queried once with values_list."""

    today: dt.date
    now: dt.datetime
    tz: dt.tzinfo
    places: list[Place]
    org_names: dict[int, str]
    street_names: dict[int, str]
    district_orgs: dict[int, list[int]]  # district -> social organisations in it
    workers: dict[int, list[Worker]]  # social organisation -> its active social workers
    user_of_person: dict[int, int]
    volunteers: dict[int, list[int]]  # volunteer team -> volunteers
    projects: dict[tuple[int, int], list[tuple[int, dt.date, dt.date]]]  # (org, community)
    people: dict[int, array[int]]  # community -> active residents
    users: dict[str, int]
    user_orgs: dict[str, int | None]

    @classmethod
    def load(cls, *, with_people: bool = True) -> Ref:
        tz = timezone.get_current_timezone()
        now = timezone.localtime(timezone.now())
        lateral: dict[int, dict[str, int]] = defaultdict(dict)
        hosted: dict[int, list[int]] = defaultdict(list)
        org_names: dict[int, str] = {}
        kinds_named = (OrgKind.SOCIAL_ORG, OrgKind.COMMUNITY_UNION, OrgKind.STREET_UNION,
                       OrgKind.DISTRICT_UNION, OrgKind.RESIDENTS_COMMITTEE, OrgKind.FEDERATION)  # fmt: skip
        for pk, parent_id, kind, name in (
            Organization.objects.filter(is_active=True)
            .order_by("pk")
            .values_list("pk", "parent_id", "kind", "name")
        ):
            if kind in kinds_named:
                org_names[pk] = name
            if kind == OrgKind.SOCIAL_ORG:
                hosted[parent_id].append(pk)
            elif kind in (OrgKind.RESIDENTS_COMMITTEE, OrgKind.PARTY_ORG, OrgKind.VOLUNTEER_TEAM):
                lateral[parent_id][kind] = pk
        venues: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for pk, community_id, name in (
            Venue.objects.filter(is_active=True)
            .order_by("pk")
            .values_list("pk", "community_id", "name")
        ):
            venues[community_id].append((pk, name))
        places = []
        rng = random.Random("delivery-places")
        for pk, org_id, name, tier, street_id, district_id in (
            Community.objects.active()
            .order_by("pk")
            .values_list("pk", "organization_id", "name", "tier", "street_id", "district_id")
        ):
            side = lateral.get(org_id, {})
            places.append(
                Place(
                    pk, org_id, name, tier, street_id, district_id,
                    weight=TIER_WEIGHT.get(tier, 1.0) * (0.6 + 0.8 * rng.random()),
                    committee_id=side.get(OrgKind.RESIDENTS_COMMITTEE),
                    party_id=side.get(OrgKind.PARTY_ORG),
                    team_id=side.get(OrgKind.VOLUNTEER_TEAM),
                    venues=venues.get(pk, []),
                    local_orgs=hosted.get(org_id, []),
                )
            )  # fmt: skip
        district_orgs: dict[int, list[int]] = defaultdict(list)
        for p in places:
            district_orgs[p.district_id].extend(p.local_orgs)
        street_names = {p.street_id: org_names.get(p.street_id, "") for p in places if p.street_id}
        workers: dict[int, list[Worker]] = defaultdict(list)
        for pk, person_id, org_id, qualification, flagged in (
            SocialWorker.objects.filter(status=SocialWorkerStatus.ACTIVE)
            .order_by("pk")
            .values_list("pk", "person_id", "organization_id", "qualification", "is_supervisor")
        ):
            supervises = flagged or qualification in (
                Qualification.SOCIAL_WORKER,
                Qualification.SENIOR,
            )
            workers[org_id].append(Worker(pk, person_id, org_id, supervises))
        user_of_person = dict(
            Person.objects.filter(user__isnull=False).values_list("pk", "user_id")
        )
        volunteers: dict[int, list[int]] = defaultdict(list)
        for pk, team_id in Volunteer.objects.order_by("pk").values_list("pk", "team_id"):
            volunteers[team_id].append(pk)
        projects: dict[tuple[int, int], list[tuple[int, dt.date, dt.date]]] = defaultdict(list)
        for pk, org_id, community_id, starts_on, ends_on in (
            ServiceProject.communities.through.objects.filter(
                serviceproject__status__in=(
                    ProjectStatus.ACTIVE,
                    ProjectStatus.CLOSING,
                    ProjectStatus.ACCEPTED,
                )
            )
            .order_by("serviceproject_id", "community_id")
            .values_list(
                "serviceproject_id",
                "serviceproject__organization_id",
                "community_id",
                "serviceproject__starts_on",
                "serviceproject__ends_on",
            )
        ):
            projects[(org_id, community_id)].append((pk, starts_on, ends_on))  # fmt: skip
        people: dict[int, array[int]] = defaultdict(lambda: array("q"))
        if with_people:
            for pk, community_id in (
                Person.objects.filter(is_active=True, user__isnull=True)
                .order_by("pk")
                .values_list("pk", "community_id")
                .iterator(chunk_size=50_000)
            ):
                people[community_id].append(pk)
        users = dict(User.objects.values_list("username", "pk"))
        user_orgs = dict(User.objects.values_list("username", "organization_id"))
        return cls(
            today=now.date(),
            now=now,
            tz=tz,
            places=places,
            org_names=org_names,
            street_names=street_names,
            district_orgs=dict(district_orgs),
            workers=dict(workers),
            user_of_person=user_of_person,
            volunteers=dict(volunteers),
            projects=dict(projects),
            people=dict(people),
            users=users,
            user_orgs=user_orgs,
        )

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)

    def project_for(self, org_id: int, community_id: int, day: dt.date) -> int | None:
        """The organisation's project serving the community on that day, if any."""
        for pk, starts_on, ends_on in self.projects.get((org_id, community_id), ()):
            if starts_on <= day <= ends_on:
                return pk
        return None

    def nearby_org(self, rng: random.Random, place: Place) -> int | None:
        """A social organisation serving the community: one based there, mostly, else one of
        its district."""
        if place.local_orgs and rng.random() < 0.75:
            return rng.choice(place.local_orgs)
        near = self.district_orgs.get(place.district_id) or place.local_orgs
        return rng.choice(near) if near else None


# ---- the bulk: surveys -------------------------------------------------------------------

LIKERT_WEIGHTS: dict[str, list[float]] = {
    Tier.STAR: _cum((2, 4, 14, 40, 40)),
    Tier.ORDINARY: _cum((3, 6, 21, 40, 30)),
    Tier.WEAK: _cum((5, 10, 27, 38, 20)),
}
NEED_CUM: dict[str, list[float]] = {tier: _cum(weights) for tier, weights in NEED_WEIGHTS.items()}
LIKERT = [Decimal(v) for v in range(1, 6)]
NEEDS_CHOSEN = _cum((55, 32, 13))  # one, two or three needs


def _needs(rng: random.Random, cum: Sequence[float]) -> list[int]:
    """Indexes into NEEDS that one respondent picks (one to three, by the tier's weights)."""
    want = _pick(rng, NEEDS_CHOSEN) + 1
    chosen: list[int] = []
    while len(chosen) < want:
        i = _pick(rng, cum)
        if i not in chosen:
            chosen.append(i)
    return chosen


def bulk_surveys(ref: Ref, w: Writer, total: int, rng: random.Random) -> None:
    """Each district surveys its communities once a year (five years, this year's possibly
    still open): a need question, an optional satisfaction scale and suggestion box; `total`
    responses spread over the communities by weight and over the years by YEAR_SHARES."""
    creator = ref.users.get("city")
    by_district: dict[int, list[Place]] = defaultdict(list)
    for p in ref.places:
        by_district[p.district_id].append(p)
    counts = dict(zip((p.pk for p in ref.places),
                      allocate(total, [p.weight for p in ref.places]), strict=True))  # fmt: skip
    for district_id, members in by_district.items():
        area = ref.org_names.get(district_id, "").removesuffix("总工会")
        offset = rng.randint(15, 330)
        surveys = []
        for k in range(len(YEAR_SHARES)):
            opens = ref.at(ref.today - dt.timedelta(days=k * 365 + offset), 9)
            closes = opens + dt.timedelta(days=40, hours=9)
            sid = w.new_id(Survey)
            w.add(Survey, (
                sid, f"{opens.year}年{area}职工群众服务需求调查",
                "为精准对接职工群众需求、编制下一年度购买服务项目指南，特开展本次调查。"
                "问卷匿名填写，约需两分钟。",
                opens, closes,
                SurveyStatus.PUBLISHED if closes > ref.now else SurveyStatus.CLOSED,
                _token(rng, sid, 36), creator, opens - dt.timedelta(days=7),
                opens - dt.timedelta(days=1),
            ))  # fmt: skip
            for p in members:
                w.add(Survey.communities.through, (w.new_id(Survey.communities.through), sid, p.pk))
            need_q, likert_q, text_q = (w.new_id(Question) for _ in range(3))
            w.add(Question, (need_q, sid, 1, QuestionKind.MULTIPLE,
                             "您和家人最需要社区提供哪些服务？（可多选）", True, True, None))  # fmt: skip
            w.add(Question, (likert_q, sid, 2, QuestionKind.LIKERT,
                             "您对社区工会现有服务的总体满意度", False, False, None))  # fmt: skip
            w.add(Question, (text_q, sid, 3, QuestionKind.SHORT_TEXT,
                             "您最希望社区工会开展的一项活动或服务", False, False, None))  # fmt: skip
            options = []
            for seq, text in enumerate(NEEDS, start=1):
                oid = w.new_id(QuestionOption)
                w.add(QuestionOption, (oid, need_q, seq, text))
                options.append(oid)
            surveys.append((sid, opens, min(closes, ref.now), need_q, likert_q, text_q, options))
        for p in members:
            responses: list[tuple[Any, ...]] = []
            answers: list[tuple[Any, ...]] = []
            rid, aid = w.next_ids[SurveyResponse], w.next_ids[Answer]
            random_, bits, need_cum = rng.random, rng.getrandbits, NEED_CUM[p.tier]
            likert_cum = LIKERT_WEIGHTS[p.tier]
            for k, n in enumerate(allocate(counts[p.pk], YEAR_SHARES)):
                sid, start, end, need_q, likert_q, text_q, options = surveys[k]
                span = max(int((end - start).total_seconds()), 60)
                for _ in range(n):
                    at = start + dt.timedelta(seconds=int(random_() * span))
                    if not 7 <= at.hour <= 22:  # people answer by day and in the evening
                        at = max(start, min(end, at.replace(hour=7 + at.hour % 15)))
                    responses.append((rid, sid, p.pk, f"{rid:x}-{bits(40):010x}", f"{bits(256):064x}",
                                      "", at))  # fmt: skip
                    for i in _needs(rng, need_cum):
                        answers.append((aid, rid, sid, p.pk, need_q, options[i], None, ""))
                        aid += 1
                    if random_() < 0.65:  # the scale is optional
                        answers.append((aid, rid, sid, p.pk, likert_q, None,
                                        LIKERT[bisect.bisect(likert_cum, random_())], ""))  # fmt: skip
                        aid += 1
                    if random_() < 0.02:
                        answers.append((aid, rid, sid, p.pk, text_q, None, None,
                                        SUGGESTIONS[int(random_() * len(SUGGESTIONS))]))  # fmt: skip
                        aid += 1
                    rid += 1
            w.next_ids[SurveyResponse], w.next_ids[Answer] = rid, aid
            w.extend(SurveyResponse, responses)
            w.extend(Answer, answers)


# ---- demands (the story and the bulk share the timeline) -----------------------------------

CATEGORY_WEIGHTS: dict[str, tuple[int, ...]] = {
    Tier.STAR: (10, 6, 10, 16, 12, 14, 12, 8, 6, 6),
    Tier.ORDINARY: (12, 10, 9, 14, 11, 13, 9, 6, 9, 7),
    Tier.WEAK: (14, 18, 8, 12, 10, 12, 6, 5, 12, 3),
}
CATEGORY_CUM: dict[str, list[float]] = {tier: _cum(w) for tier, w in CATEGORY_WEIGHTS.items()}
CATEGORIES = [c.value for c in DemandCategory]
CHANNELS = [c.value for c in DemandChannel]
CHANNEL_CUM = _cum((30, 30, 25, 15))
# The status of a demand by its age in days (up to the bound): what it has come to by now.
STATUS_BY_AGE: list[tuple[int | None, list[str], list[float]]] = [
    (2, ["received", "accepted", "in_progress"], _cum((55, 30, 15))),
    (14, ["received", "accepted", "in_progress", "resolved", "closed", "rejected"],
     _cum((6, 12, 45, 22, 12, 3))),
    (60, ["received", "accepted", "in_progress", "resolved", "closed", "rejected"],
     _cum((1.5, 1.5, 12, 20, 61, 4))),
    (None, ["received", "in_progress", "resolved", "closed", "rejected"],
     _cum((0.4, 1.1, 12, 81.5, 5))),
]  # fmt: skip
SATISFACTION_CUM: dict[str, list[float]] = {
    Tier.STAR: _cum((2, 3, 8, 27, 60)),
    Tier.ORDINARY: _cum((3, 4, 10, 28, 55)),
    Tier.WEAK: _cum((4, 6, 13, 30, 47)),
}
RESIDENT = "居民"
SYSTEM = "系统自动分派"


def status_for_age(rng: random.Random, days: int) -> str:
    for bound, statuses, cum in STATUS_BY_AGE:
        if bound is None or days <= bound:
            return statuses[_pick(rng, cum)]
    raise AssertionError("unreachable")


_deadlines: dict[tuple[str, dt.date], tuple[dt.date, dt.date]] = {}


def _deadlines_for(category: str, day: dt.date) -> tuple[dt.date, dt.date]:
    key = (category, day)
    found = _deadlines.get(key)
    if found is None:
        found = _deadlines[key] = demand_services.deadlines(category, day)
    return found


_notes: dict[tuple[str, str, str], str] = {}


def rule_note(category: str, where: str, org_name: str) -> str:
    """What `routing_suggestion` says of a rule."""
    key = (category, where, org_name)
    note = _notes.get(key)
    if note is None:
        label = DemandCategory(category).label
        note = _notes[key] = f"规则：“{label}”类诉求（{where}）由{org_name}承办"
    return note


@dataclass
class DemandPlan:
    fields: dict[str, Any]
    events: list[tuple[Any, ...]]  # DemandEvent's columns after the id and the demand's
    correction: dict[str, Any] | None


def plan_demand(
    rng: random.Random,
    *,
    now: dt.datetime,
    community_id: int,
    street_id: int,
    tier: str,
    category: str,
    channel: str,
    received_at: dt.datetime,
    status: str,
    handler: tuple[int, str] | None,
    routing: tuple[str, str],
    recorder: tuple[int | None, str],
    staff: tuple[int | None, str],
    reroute: tuple[int | None, int, str, int | None, str] | None = None,
    project_id: int | None = None,
    satisfaction: int | None = None,
    mediated: bool | None = None,
) -> DemandPlan:
    """A demand received at `received_at` that has come to `status` by now, with the events
    the services would have written on its way there (every time between receipt and now).

    `handler`: (organisation, name) it is routed to, `routing` (source, note) of the routing at
    intake; `reroute`: (from organisation or None, to organisation, its name, by user, by
    name) when staff routed it by hand; `recorder` and `staff`: (user or None, name) of who
    recorded it and who handled it; `satisfaction` and `mediated` fix the score of a closed
    demand and whether a dispute was settled in the community (else drawn)."""
    accept_due, resolve_due = _deadlines_for(category, received_at.date())  # local times
    # Hours after receipt of: the rerouting, acceptance, start, resolution and closure; then
    # squeezed into the time there has been since receipt, up to the step the status needs.
    gaps = [rng.uniform(1, 6) if reroute is not None else 0.0, rng.uniform(0.5, 30),
            rng.uniform(2, 48), rng.uniform(24, 24 * 12), rng.uniform(24, 24 * 6)]  # fmt: skip
    offsets, acc = [], 0.0
    for gap in gaps:
        acc += gap
        offsets.append(acc)
    last = {"received": 0, "accepted": 1, "in_progress": 2, "resolved": 3, "closed": 4,
            "rejected": 2}[status]  # fmt: skip
    room = (now - received_at).total_seconds() / 3600 - 0.1
    if offsets[last] > max(room, 0.0):
        factor = max(room, 0.0) * rng.uniform(0.5, 0.95) / offsets[last]
        offsets = [o * factor for o in offsets]
    times = [received_at + dt.timedelta(hours=o) for o in offsets]
    rerouted_at, accepted_at, started_at, resolved_at, closed_at = times
    events: list[tuple[Any, ...]] = []

    def event(kind: str, at: dt.datetime, who: tuple[int | None, str], before: str, after: str,
              note: str = "", org: int | None = None) -> None:  # fmt: skip
        events.append((kind, at, who[0], who[1], before, after, org, note))

    public = channel == DemandChannel.PUBLIC_PAGE
    first = DemandEventKind.SUBMITTED if public else DemandEventKind.RECORDED
    event(first, received_at, (None, RESIDENT) if public else recorder, "", "received")
    routing_source, routing_note = routing
    if handler is not None and routing_source == RoutingSource.RULE:
        event(DemandEventKind.ROUTED, received_at + dt.timedelta(seconds=1), (None, SYSTEM),
              "", "received", routing_note, handler[0])  # fmt: skip
    correction = None
    if reroute is not None:
        from_org, to_org, to_name, by_id, by_name = reroute
        reason = f"该诉求由{to_name}承办更为合适"
        event(DemandEventKind.REROUTED, rerouted_at, (by_id, by_name), "received", "received",
              reason, to_org)  # fmt: skip
        correction = {"category": category, "community_id": community_id, "street_id": street_id,
                      "from_org_id": from_org, "to_org_id": to_org, "reason": reason,
                      "by_id": by_id, "at": rerouted_at}  # fmt: skip
        handler = (to_org, to_name)
        routing_source, routing_note = RoutingSource.MANUAL, reason
    fields: dict[str, Any] = {
        "community_id": community_id, "category": category, "channel": channel,
        "description": rng.choice(DEMAND_TEXTS[category]),
        "resident_name": _name(rng), "resident_phone": _mobile(rng),
        "handler_org_id": handler[0] if handler else None,
        "routing_source": routing_source, "routing_note": routing_note[:300],
        "project_id": project_id, "status": status, "received_at": received_at,
        "accept_due": accept_due, "resolve_due": resolve_due,
        "accepted_at": None, "resolved_at": None, "closed_at": None, "resolution": "",
        "public_reply": "", "resolved_in_community": False, "reject_reason": "",
        "satisfaction": None, "feedback_by": "", "feedback_comment": "",
        "created_by_id": None if public else recorder[0], "created_at": received_at,
    }  # fmt: skip
    if status == DemandStatus.REJECTED:
        reason, before, rejected_at = rng.choice(REJECT_REASONS), "received", accepted_at
        if rng.random() < 0.3:  # accepted first, then found not to be for us
            fields["accepted_at"] = accepted_at
            event(DemandEventKind.ACCEPTED, accepted_at, staff, "received", "accepted")
            before, rejected_at = "accepted", started_at
        fields.update(reject_reason=reason, public_reply=reason, closed_at=rejected_at)
        event(DemandEventKind.REJECTED, rejected_at, staff, before, "rejected", reason)
        return DemandPlan(fields, events, correction)
    order = ["accepted", "in_progress", "resolved", "closed"]
    reached = order[: order.index(status) + 1] if status in order else []
    if "accepted" in reached:
        fields["accepted_at"] = accepted_at
        event(DemandEventKind.ACCEPTED, accepted_at, staff, "received", "accepted")
    if "in_progress" in reached:
        event(DemandEventKind.STARTED, started_at, staff, "accepted", "in_progress")
    if "resolved" in reached:
        resolution = rng.choice(RESOLUTIONS[category])
        fields.update(
            resolved_at=resolved_at,
            resolution=resolution,
            public_reply=f"您反映的问题已办结：{resolution}",
            resolved_in_community=category in DISPUTE_CATEGORIES
            and (rng.random() < 0.6 if mediated is None else mediated),
        )
        event(DemandEventKind.RESOLVED, resolved_at, staff, "in_progress", "resolved", resolution)
    if "closed" in reached:
        score = (
            satisfaction
            or _pick(rng, SATISFACTION_CUM.get(tier, SATISFACTION_CUM[Tier.ORDINARY])) + 1
        )
        comment = rng.choice(FEEDBACK_COMMENTS[score]) if rng.random() < 0.5 else ""
        by_resident = rng.random() < 0.4
        fields.update(
            closed_at=closed_at,
            satisfaction=score,
            feedback_by=FeedbackBy.RESIDENT if by_resident else FeedbackBy.STAFF,
            feedback_comment=comment,
        )
        note = f"满意度 {score} 分" + (f"：{comment}" if comment else "")
        who = (None, RESIDENT) if by_resident else staff
        event(DemandEventKind.CLOSED, closed_at, who, "resolved", "closed", note)
    return DemandPlan(fields, events, correction)


def bulk_routing_rules(
    ref: Ref, w: Writer, rng: random.Random
) -> dict[tuple[str, int, str], tuple[int, str]]:
    """The rules every district keeps: property and neighbour disputes to the community's
    residents' committee, hardship and the rest to its joint union, labour disputes to the
    street union, employment to the district union, and legal aid, elderly care, education
    and counselling to a social organisation of the district. Returns where each category of
    each place goes: ("community"|"street"|"district", id, category) -> (organisation, where)."""
    out: dict[tuple[str, int, str], tuple[int, str]] = {}
    made = ref.now - dt.timedelta(days=730)

    def rule(owner: int, category: str, org: int, *, community: Place | None = None,
             street: int | None = None, where: str) -> None:  # fmt: skip
        w.add(RoutingRule, (w.new_id(RoutingRule), owner, category,
                            community.pk if community else None, street, org,
                            "", True, None, made))  # fmt: skip
        key = (
            ("community", community.pk)
            if community
            else ("street", street)
            if street
            else ("district", owner)
        )
        out[(key[0], key[1], category)] = (org, where)

    districts: dict[int, list[Place]] = defaultdict(list)
    for p in ref.places:
        districts[p.district_id].append(p)
    for district_id, members in districts.items():
        area = ref.org_names.get(district_id, "")
        orgs = ref.district_orgs.get(district_id) or []
        rule(district_id, DemandCategory.EMPLOYMENT, district_id, where=area)
        for category in (DemandCategory.LEGAL, DemandCategory.ELDERLY, DemandCategory.EDUCATION,
                         DemandCategory.MENTAL):  # fmt: skip
            rule(district_id, category, rng.choice(orgs) if orgs else district_id, where=area)
        for street_id in dict.fromkeys(p.street_id for p in members):
            rule(district_id, DemandCategory.LABOUR, street_id, street=street_id,
                 where=ref.street_names.get(street_id, ""))  # fmt: skip
        for p in members:
            for category in (DemandCategory.PROPERTY, DemandCategory.NEIGHBOUR):
                rule(district_id, category, p.committee_id or p.org_id, community=p, where=p.name)
            for category in (DemandCategory.HARDSHIP, DemandCategory.OTHER):
                rule(district_id, category, p.org_id, community=p, where=p.name)
    return out


def bulk_demands(ref: Ref, w: Writer, total: int, rng: random.Random) -> None:
    """`total` demands over five years and every community by weight, routed by the rules
    above (a few rerouted by hand), each at the status its age makes likely (a few left open
    past their deadlines), with its timeline."""
    routes = bulk_routing_rules(ref, w, rng)
    counts = allocate(total, [p.weight for p in ref.places])
    for p, n in zip(ref.places, counts, strict=True):
        recorder = (None, ref.org_names.get(p.org_id, p.name))
        for _ in range(n):
            back = _days_back(rng)
            day = ref.today - dt.timedelta(days=back)
            received = ref.at(day, 8 + int(rng.random() * 13), int(rng.random() * 60))
            if received > ref.now:
                received = ref.now - dt.timedelta(minutes=5 + int(rng.random() * 300))
            category = CATEGORIES[_pick(rng, CATEGORY_CUM[p.tier])]
            org, where = (routes.get(("community", p.pk, category))
                          or routes.get(("street", p.street_id, category))
                          or routes[("district", p.district_id, category)])  # fmt: skip
            org_name = ref.org_names.get(org, "")
            status = status_for_age(rng, (ref.now - received).days)
            reroute = None
            if rng.random() < 0.02 and status != DemandStatus.REJECTED:
                to = p.committee_id if org == p.org_id and p.committee_id else p.org_id
                if to != org:
                    reroute = (org, to, ref.org_names.get(to, ""), None, recorder[1])
            handler_org = reroute[1] if reroute else org
            plan = plan_demand(
                rng,
                now=ref.now,
                community_id=p.pk,
                street_id=p.street_id,
                tier=p.tier,
                category=category,
                channel=CHANNELS[_pick(rng, CHANNEL_CUM)],
                received_at=received,
                status=status,
                handler=(org, org_name),
                routing=(RoutingSource.RULE, rule_note(category, where, org_name)),
                recorder=recorder,
                staff=(None, ref.org_names.get(handler_org, org_name)),
                reroute=reroute,
                project_id=ref.project_for(handler_org, p.pk, day),
            )
            pk = w.new_id(Demand)
            plan.fields.update(id=pk, token=_token(rng, pk, 36))
            w.add_dict(Demand, plan.fields)
            for e in plan.events:
                w.add(DemandEvent, (w.new_id(DemandEvent), pk, *e))
            if plan.correction is not None:
                plan.correction.update(id=w.new_id(RoutingCorrection), demand_id=pk)
                w.add_dict(RoutingCorrection, plan.correction)


# ---- case files (the story and the bulk share the file's course) ---------------------------


class Sealer:
    """Ciphertexts of the demo's texts, each encrypted once and reused: the notes read back
    through the models' Sealed attributes like any other."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        if not text:
            return ""
        found = self.cache.get(text)
        if found is None:
            found = self.cache[text] = crypto.encrypt(text)
        return found

    def pick(self, rng: random.Random, texts: Sequence[str]) -> str:
        return self(texts[int(rng.random() * len(texts))])


WORKING = (CasePhase.ASSESSMENT, CasePhase.PLANNING, CasePhase.INTERVENTION, CasePhase.EVALUATION)
# Phase of a case by its age in days (up to the bound).
PHASE_BY_AGE: list[tuple[int | None, list[str], list[float]]] = [
    (30, ["intake", "not_taken", "assessment", "planning", "intervention"], _cum((25, 10, 30, 20, 15))),
    (120, ["intake", "not_taken", "assessment", "planning", "intervention", "evaluation",
           "closing", "closed"], _cum((3, 6, 12, 15, 40, 8, 4, 12))),
    (300, ["not_taken", "assessment", "planning", "intervention", "evaluation", "closing",
           "closed"], _cum((6, 2, 3, 20, 10, 4, 55))),
    (None, ["not_taken", "intervention", "evaluation", "closing", "closed"],
     _cum((6, 4, 2, 1, 87))),
]  # fmt: skip
CLOSURE_CUM = _cum((70, 12, 8, 10))
CLOSURES = [ClosureReason.GOALS_MET, ClosureReason.WITHDREW, ClosureReason.REFERRED,
            ClosureReason.CHANGE]  # fmt: skip
PROBLEM_CUM = _cum((18, 14, 12, 14, 14, 12, 10, 6))
PROBLEM_CATEGORIES = [c.value for c in ProblemCategory]
SOURCE_CUM = _cum((60, 15, 25))
SOURCES = [c.value for c in CaseSource]
CONTACT_KINDS = [ContactKind.FACE, ContactKind.PHONE, ContactKind.HOME]
CONTACT_KIND_CUM = _cum((45, 30, 25))


# Which of the day marks of `plan_case` a phase needs behind it.
NEEDED_MARK: dict[str, int] = {
    CasePhase.INTAKE: 0,
    CasePhase.NOT_TAKEN: 0,
    CasePhase.ASSESSMENT: 0,
    CasePhase.PLANNING: 1,
    CasePhase.INTERVENTION: 3,
    CasePhase.EVALUATION: 4,
    CasePhase.CLOSING: 5,
    CasePhase.CLOSED: 6,
}


def phase_for_age(rng: random.Random, days: int) -> str:
    for bound, phases, cum in PHASE_BY_AGE:
        if bound is None or days <= bound:
            return phases[_pick(rng, cum)]
    raise AssertionError("unreachable")


def contact_time(rng: random.Random, day: dt.date) -> tuple[dt.date, dt.time, dt.time]:
    """When a contact happened: office hours mostly, a good share in the evening and at the
    weekend (work with workers happens outside their working day)."""
    r = rng.random()
    if r < 0.25:  # an evening after work
        start = (dt.time(18, 30), dt.time(18, 45), dt.time(19, 0))[int(rng.random() * 3)]
    elif r < 0.4:  # the weekend
        day += dt.timedelta(days=(5 - day.weekday()) % 7)
        start = dt.time(9 + int(rng.random() * 7), 30 * int(rng.random() * 2))
    else:
        start = dt.time(9 + int(rng.random() * 7), 30 * int(rng.random() * 2))
    minutes = 30 + 15 * int(rng.random() * 5)
    end_minutes = min(start.hour * 60 + start.minute + minutes, 23 * 60 + 59)
    return day, start, dt.time(end_minutes // 60, end_minutes % 60)


@dataclass
class CasePlan:
    """A case's row and its children's; goals, contacts and follow-ups as their columns after
    the id and the case's (in COLUMNS' order), referrals by column name."""

    fields: dict[str, Any]
    goals: list[list[Any]]
    contacts: list[tuple[Any, ...]]
    follow_ups: list[tuple[Any, ...]]
    referrals: list[dict[str, Any]]


def plan_case(
    rng: random.Random,
    seal: Sealer,
    *,
    today: dt.date,
    at: Callable[[dt.date, int, int], dt.datetime],
    phase: str,
    opened_on: dt.date,
    organization_id: int,
    worker_id: int,
    supervisor_id: int | None,
    person_id: int,
    project_id: int | None,
    author_id: int,
    supervisor_user_id: int | None,
    closure_reason: str = "",
    contacts: int | None = None,
    referral_to: int | None = None,
    refer: str = "",
    problem_category: str | None = None,
) -> CasePlan:
    """A case opened on `opened_on` that has come to `phase` by today: every phase before it
    done in order on dates between (assessment, plan signed by the supervisor, contacts,
    goals rated, closure signed), its consent recorded or not, a referral where its closure
    says so. `author_id`: the account recording it; `closure_reason` for closing and closed;
    `referral_to`: where a referral goes (a closure "referred" needs one), `refer`: the status
    of a referral of a case still being worked on (none when empty)."""
    age = max((today - opened_on).days, 0)
    category = problem_category or PROBLEM_CATEGORIES[_pick(rng, PROBLEM_CUM)]
    if phase in (CasePhase.CLOSING, CasePhase.CLOSED) and not closure_reason:
        closure_reason = CLOSURES[_pick(rng, CLOSURE_CUM)]
    if closure_reason == ClosureReason.REFERRED and referral_to is None:
        closure_reason = ClosureReason.WITHDREW
    # Where the work stood when it ended (early closures leave from a working phase).
    reached = phase
    if phase in (CasePhase.CLOSING, CasePhase.CLOSED):
        reached = (
            CasePhase.EVALUATION
            if closure_reason == ClosureReason.GOALS_MET
            else rng.choice((CasePhase.ASSESSMENT, CasePhase.INTERVENTION, CasePhase.INTERVENTION))
        )
        if closure_reason == ClosureReason.REFERRED and reached == CasePhase.ASSESSMENT:
            reached = CasePhase.INTERVENTION
    order = (CasePhase.INTAKE, *WORKING)
    level = order.index(reached) if reached in order else 0
    # Day offsets from opening: assessment done, plan submitted, signed, intervention ended,
    # evaluation done, closure submitted, closure signed; squeezed into the case's age.
    marks, acc = [], 0
    for low, high in ((3, 10), (2, 8), (1, 4), (20, 120), (3, 10), (0, 3), (1, 5)):
        acc += low + int(rng.random() * (high - low + 1))
        marks.append(acc)
    needed = NEEDED_MARK[phase]
    if marks[needed] > age:
        marks = [m * age // max(marks[needed], 1) for m in marks]
    day = [opened_on + dt.timedelta(days=m) for m in marks]
    taken = phase not in (CasePhase.INTAKE, CasePhase.NOT_TAKEN)
    f: dict[str, Any] = {
        "organization_id": organization_id, "worker_id": worker_id,
        "supervisor_id": supervisor_id, "person_id": person_id, "project_id": project_id,
        "phase": phase, "source": SOURCES[_pick(rng, SOURCE_CUM)], "problem_category": category,
        "presenting_problem_encrypted": seal.pick(rng, PROBLEMS[category]),
        "opened_on": opened_on, "not_taken_reason": "", "agreement_on": None,
        "consent_on": None, "consent_method": "", "consent_witness": "",
        "information_encrypted": "", "problems_encrypted": "", "strengths_encrypted": "",
        "assessment_summary_encrypted": "", "health_encrypted": "", "finances_encrypted": "",
        "aims_encrypted": "", "strategies_encrypted": "", "partners": "", "timetable": "",
        "plan_submitted_at": None, "plan_signed_by_id": None, "plan_signed_at": None,
        "evaluation_summary_encrypted": "", "closure_reason": "", "closure_summary_encrypted": "",
        "phase_before_closing": "", "returned_note": "", "closure_signed_by_id": None,
        "closure_signed_at": None, "closed_on": None, "created_by_id": author_id,
        "created_at": at(opened_on, 10, 0),
    }  # fmt: skip
    plan = CasePlan(f, [], [], [], [])
    if phase == CasePhase.NOT_TAKEN:
        f["not_taken_reason"] = rng.choice(NOT_TAKEN_REASONS)
        return plan
    if taken:
        f["agreement_on"] = min(opened_on + dt.timedelta(days=int(rng.random() * 3)), today)
    if rng.random() < (0.7 if taken else 0.2):
        f["consent_on"] = f["agreement_on"] or opened_on
        if rng.random() < 0.8:
            f["consent_method"] = ConsentMethod.SIGNED
        else:
            f["consent_method"], f["consent_witness"] = ConsentMethod.ORAL, _name(rng)
    if not taken:
        return plan
    f["information_encrypted"] = seal.pick(rng, INFORMATION)
    if level >= 2 or rng.random() < 0.5:  # the assessment written
        f["problems_encrypted"] = seal.pick(rng, PROBLEM_ANALYSES)
        f["strengths_encrypted"] = seal.pick(rng, STRENGTHS)
        f["assessment_summary_encrypted"] = seal.pick(rng, ASSESSMENTS)
        if f["consent_on"] is not None and rng.random() < 0.5:
            f["health_encrypted"] = seal.pick(rng, HEALTH_NOTES)
            f["finances_encrypted"] = seal.pick(rng, FINANCE_NOTES)
    goals: list[list[Any]] = []
    if level >= 2:  # the plan written
        f["aims_encrypted"] = seal.pick(rng, AIMS)
        f["strategies_encrypted"] = seal.pick(rng, STRATEGIES)
        f["partners"], f["timetable"] = rng.choice(PARTNERS), rng.choice(TIMETABLES)
        for seq, i in enumerate(rng.sample(range(len(GOALS)), 1 + int(rng.random() * 3)), 1):
            goal, measure = GOALS[i]
            goals.append([seq, seal(goal), seal(measure), "", ""])
        plan.goals = goals
        submitted = level >= 3 or rng.random() < 0.6
        if submitted:
            f["plan_submitted_at"] = at(day[1], 16, 0)
        elif rng.random() < 0.3:
            f["returned_note"] = "请细化服务目标的衡量方式，补充时间安排。"
    if level >= 3:  # signed off, then the intervention
        f["plan_signed_at"] = at(day[2], 11, 0)
        f["plan_signed_by_id"] = supervisor_user_id
        first = day[2] + dt.timedelta(days=1)
        last = min(day[3] if phase != CasePhase.INTERVENTION else today, today)
        n = (
            contacts
            if contacts is not None
            else (2 + int(rng.random() * 7) if level == 3 else 5 + int(rng.random() * 10))
        )
        if (
            phase in (CasePhase.CLOSING, CasePhase.CLOSED)
            and closure_reason != ClosureReason.GOALS_MET
        ):
            n = min(n, 1 + int(rng.random() * 4))
        span = max((last - first).days, 0)
        for _ in range(max(n, 1)):
            served_on, start, end = contact_time(
                rng, first + dt.timedelta(days=int(rng.random() * (span + 1)))
            )
            served_on = min(served_on, last)
            kind = CONTACT_KINDS[_pick(rng, CONTACT_KIND_CUM)]
            plan.contacts.append((
                kind, seal.pick(rng, CONTACT_NOTES[kind]), author_id, at(served_on, 21, 0),
                served_on, start, end,
            ))  # fmt: skip
    if level >= 4:  # the evaluation
        everything = phase in (CasePhase.CLOSING, CasePhase.CLOSED) or rng.random() < 0.5
        for g in goals:
            if everything or rng.random() < 0.5:
                g[3] = rng.choice(
                    (Attainment.FULL, Attainment.FULL, Attainment.MOSTLY, Attainment.PARTLY)
                )
                g[4] = seal.pick(rng, ATTAINMENT_NOTES)
        if everything:
            f["evaluation_summary_encrypted"] = seal.pick(rng, EVALUATIONS)
    if referral_to is not None and (
        closure_reason == ClosureReason.REFERRED or (refer and phase in WORKING)
    ):
        created = day[3] if level >= 3 else day[0]
        created = min(created, today)
        status = ReferralStatus.ACCEPTED if closure_reason == ClosureReason.REFERRED else refer
        consented = f["consent_on"] is not None or rng.random() < 0.5
        plan.referrals.append({
            "to_org_id": referral_to, "reason_encrypted": seal.pick(rng, REFERRAL_REASONS),
            "share_basis": ShareBasis.CONSENT if consented else ShareBasis.NONE,
            "consent_on": created if consented else None,
            "summary_encrypted": seal.pick(rng, REFERRAL_SUMMARIES) if consented else "",
            "override_reason": "", "override_by_id": None, "status": status,
            "decided_by_id": None,
            "decided_at": at(min(created + dt.timedelta(days=2), today), 15, 0)
            if status != ReferralStatus.PENDING else None,
            "decline_reason": rng.choice(DECLINE_REASONS) if status == ReferralStatus.DECLINED else "",
            "created_by_id": author_id, "created_at": at(created, 14, 0),
        })  # fmt: skip
    if phase in (CasePhase.CLOSING, CasePhase.CLOSED):
        f["closure_reason"] = closure_reason
        f["closure_summary_encrypted"] = seal.pick(rng, CLOSURE_SUMMARIES[closure_reason])
        f["phase_before_closing"] = reached
        if phase == CasePhase.CLOSED:
            f["phase_before_closing"] = reached
            f["closure_signed_at"] = at(day[6], 10, 30)
            f["closure_signed_by_id"] = supervisor_user_id
            f["closed_on"] = day[6]
            if closure_reason == ClosureReason.GOALS_MET:
                for k in range(int(rng.random() * 3)):
                    visited = day[6] + dt.timedelta(days=30 * (k + 1) + int(rng.random() * 20))
                    if visited > today:
                        break
                    kind = rng.choice(CONTACT_KINDS)
                    plan.follow_ups.append((
                        kind, seal.pick(rng, FOLLOW_UPS), author_id, at(visited, 20, 0), visited,
                    ))  # fmt: skip
    return plan


def _write_case(w: Writer, plan: CasePlan) -> int:
    pk = w.new_id(Case)
    plan.fields["id"] = pk
    w.add_dict(Case, plan.fields)
    for model, children in ((CaseGoal, plan.goals), (CaseContact, plan.contacts),
                             (CaseFollowUp, plan.follow_ups)):  # fmt: skip
        for child in children:
            w.add(model, (w.new_id(model), pk, *child))
    for referral in plan.referrals:
        referral.update(id=w.new_id(Referral), case_id=pk)
        w.add_dict(Referral, referral)
    return pk


def bulk_cases(
    ref: Ref, w: Writer, total: int, rng: random.Random, seal: Sealer, contacts: int
) -> None:
    """`total` case files of residents of every community (by weight), held by social
    workers of a social organisation serving the community, opened over five years, each in
    the phase its age makes likely; about `contacts` contact records in all."""
    fallback_author = ref.users["worker"]
    counts = allocate(total, [p.weight for p in ref.places])
    teams = {
        org
        for org, staff in ref.workers.items()
        if len(staff) > 1 and sum(1 for x in staff if x.supervises) >= 1
    }
    # Contacts per case that reached the intervention (about three in four do).
    per_case = max(contacts / max(total * 0.58, 1), 1.0)
    for p, n in zip(ref.places, counts, strict=True):
        residents = ref.people.get(p.pk)
        if not residents:
            continue
        for _ in range(n):
            # An organisation with a supervisor beside its workers (the cases of one without
            # could not get past their plan); the nearest that has one.
            org = ref.nearby_org(rng, p)
            for _again in range(4):
                if org in teams:
                    break
                org = ref.nearby_org(rng, p)
            workers = ref.workers.get(org) if org is not None else None
            if org is None or not workers:
                continue
            worker = workers[int(rng.random() * len(workers))]
            supervisors = [x for x in workers if x.supervises and x.pk != worker.pk]
            supervisor = supervisors[int(rng.random() * len(supervisors))] if supervisors else None
            opened = ref.today - dt.timedelta(days=_days_back(rng))
            phase = phase_for_age(rng, (ref.today - opened).days)
            if supervisor is None and phase in (
                CasePhase.INTERVENTION,
                CasePhase.EVALUATION,
                CasePhase.CLOSING,
                CasePhase.CLOSED,
            ):  # nobody to sign the plan off
                phase = CasePhase.ASSESSMENT
            others = [o for o in ref.district_orgs.get(p.district_id, ()) if o != org]
            target = others[int(rng.random() * len(others))] if others else p.street_id
            roll = rng.random()
            plan = plan_case(
                rng,
                seal,
                today=ref.today,
                at=ref.at,
                phase=phase,
                opened_on=opened,
                organization_id=org,
                worker_id=worker.pk,
                supervisor_id=supervisor.pk if supervisor else None,
                person_id=residents[int(rng.random() * len(residents))],
                project_id=ref.project_for(org, p.pk, opened),
                author_id=ref.user_of_person.get(worker.person_id, fallback_author),
                supervisor_user_id=ref.user_of_person.get(supervisor.person_id)
                if supervisor
                else None,
                contacts=max(1, int(per_case * rng.uniform(0.4, 1.6))),
                referral_to=target,
                refer=ReferralStatus.PENDING
                if roll < 0.01
                else ReferralStatus.DECLINED
                if roll < 0.015
                else "",
            )
            _write_case(w, plan)


# ---- the bulk: groups and activities ---------------------------------------------------------

_split_cache: dict[tuple[bool, dt.time, dt.time], tuple[Decimal, Decimal]] = {}


def _split(day: dt.date, start: dt.time, end: dt.time) -> tuple[Decimal, Decimal]:
    """split_hours, remembered by weekday and times."""
    key = (day.weekday() < 5, start, end)
    found = _split_cache.get(key)
    if found is None:
        found = _split_cache[key] = split_hours(day, start, end)
    return found


def session_times(rng: random.Random, day: dt.date) -> tuple[dt.date, dt.time, dt.time]:
    """Groups meet at the weekend and in the evening mostly."""
    r = rng.random()
    if r < 0.45:
        day += dt.timedelta(days=(5 + int(rng.random() * 2) - day.weekday()) % 7)
        return (day, dt.time(9, 30), dt.time(11, 0)) if rng.random() < 0.5 else (
            day, dt.time(14, 30), dt.time(16, 0))  # fmt: skip
    if r < 0.8:
        return day, dt.time(19, 0), dt.time(20, 30)
    return day, dt.time(14, 0), dt.time(15, 30)


def _score(rng: random.Random, low: int, high: int, centre: float) -> Decimal:
    value = round(low + (high - low) * min(max(rng.gauss(centre, 0.12), 0.0), 1.0))
    return Decimal(value)


def bulk_groups(ref: Ref, w: Writer, attendance: int, rng: random.Random) -> None:
    """Groups of every community (by weight) run by a social organisation serving it, weekly
    sessions from a first one over five years (a few still to start): members recruited,
    attendance of each session, pre-test and, once ended, post-test and evaluation; about
    `attendance` attendance records in all."""
    total = max(1, round(attendance / 75))
    counts = allocate(total, [p.weight for p in ref.places])
    status_cum = _cum((80, 7, 13))
    statuses = [
        GroupAttendanceStatus.PRESENT,
        GroupAttendanceStatus.LATE,
        GroupAttendanceStatus.ABSENT,
    ]
    for p, n in zip(ref.places, counts, strict=True):
        residents = ref.people.get(p.pk)
        if not residents:
            continue
        for _ in range(n):
            org = ref.nearby_org(rng, p)
            for _again in range(4):  # an organisation with social workers to lead it
                if org in ref.workers:
                    break
                org = ref.nearby_org(rng, p)
            workers = ref.workers.get(org) if org is not None else None
            if not workers:
                continue
            leader = workers[int(rng.random() * len(workers))]
            plan = GROUP_PLANS[int(rng.random() * len(GROUP_PLANS))]
            scale_name, low, high, better = plan.scale
            planned = 6 + int(rng.random() * 5)
            ahead = rng.random() < 0.03
            first = ref.today + dt.timedelta(days=1 + int(rng.random() * 20)) if ahead else (
                ref.today - dt.timedelta(days=_days_back(rng)))  # fmt: skip
            first, starts, ends = session_times(rng, first)
            days = [first + dt.timedelta(days=7 * i) for i in range(planned)]
            held = sum(1 for d in days if d <= ref.today)
            if held == 0:
                phase, changed = GroupPhase.PREPARATION, first - dt.timedelta(days=21)
            elif held == planned and days[-1] + dt.timedelta(days=7) <= ref.today:
                phase, changed = GroupPhase.ENDING, days[-1] + dt.timedelta(days=7)
            else:
                step = min(2, 3 * held // planned)
                phase = (GroupPhase.FORMATION, GroupPhase.TRANSITION, GroupPhase.MATURITY)[step]
                changed = days[(planned * step + 2) // 3] if step else days[0]
            evaluated = phase == GroupPhase.ENDING and rng.random() < 0.8
            gid = w.new_id(Group)
            created = min(ref.at(first - dt.timedelta(days=21), 10), ref.now)
            w.add(Group, (
                gid, plan.name, plan.kind, plan.goals, plan.target, planned, leader.pk, p.pk,
                ref.project_for(leader.org_id, p.pk, first), scale_name, Decimal(low),
                Decimal(high), better, phase, ref.at(min(changed, ref.today), 9),
                "小组目标基本达成：组员之间建立了互助关系，后测得分较前测明显改善。" if evaluated else "",
                ref.at(changed + dt.timedelta(days=3), 10) if evaluated else None, None, created,
            ))  # fmt: skip
            size = min(len(residents), 8 + int(rng.random() * 7))
            chosen = rng.sample(range(len(residents)), size)
            members = []  # (member id, attends until session n)
            for idx in chosen:
                mid = w.new_id(GroupMember)
                r = rng.random()
                if phase == GroupPhase.PREPARATION:
                    status = GroupMemberStatus.ENROLLED if r < 0.5 else GroupMemberStatus.APPLIED
                else:
                    status = (GroupMemberStatus.ENROLLED if r < 0.88 else
                              GroupMemberStatus.WITHDRAWN if r < 0.94 else GroupMemberStatus.APPLIED)  # fmt: skip
                until = planned
                if status == GroupMemberStatus.WITHDRAWN:
                    until = 1 + int(rng.random() * max(held - 1, 1))
                scored = status != GroupMemberStatus.APPLIED and held > 0
                centre = 0.45 if better else 0.6
                pre = _score(rng, low, high, centre) if scored else None
                post = None
                if (
                    pre is not None
                    and phase == GroupPhase.ENDING
                    and status == GroupMemberStatus.ENROLLED
                ):
                    gain = (high - low) * rng.uniform(-0.03, 0.2)
                    value = float(pre) + (gain if better else -gain)
                    post = Decimal(round(min(max(value, low), high)))
                applied = min(created.date() + dt.timedelta(days=int(rng.random() * 14)), ref.today)
                w.add(GroupMember, (
                    mid, gid, residents[idx], status, status != GroupMemberStatus.APPLIED,
                    applied, rng.choice(WITHDRAW_REASONS) if status == GroupMemberStatus.WITHDRAWN else "",
                    pre, post,
                ))  # fmt: skip
                if status != GroupMemberStatus.APPLIED:
                    members.append((mid, until))
            venue = p.venues[0][0] if p.venues and rng.random() < 0.6 else None
            marks: list[tuple[Any, ...]] = []
            mark = w.next_ids[GroupAttendance]
            for number in range(1, held + 1):
                sid = w.new_id(GroupSession)
                day = days[number - 1]
                theme = plan.themes[(number - 1) % len(plan.themes)]
                w.add(GroupSession, (sid, gid, number, day, starts, ends, venue, theme,
                                     "", "", None, ref.at(day, 21)))  # fmt: skip
                for mid, until in members:
                    if number <= until:
                        marks.append(
                            (mark, sid, mid, statuses[bisect.bisect(status_cum, rng.random())])
                        )
                        mark += 1
            w.next_ids[GroupAttendance] = mark
            w.extend(GroupAttendance, marks)


def activity_times(rng: random.Random, day: dt.date, when: str) -> tuple[dt.date, dt.time, dt.time]:
    if when == "weekend":
        day += dt.timedelta(days=(5 + int(rng.random() * 2) - day.weekday()) % 7)
        return (day, dt.time(9, 0), dt.time(11, 30)) if rng.random() < 0.6 else (
            day, dt.time(14, 0), dt.time(16, 30))  # fmt: skip
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    if when == "evening":
        return day, dt.time(18, 30), dt.time(20, 30)
    return day, dt.time(9, 30), dt.time(11, 30)


def bulk_activities(
    ref: Ref, w: Writer, registrations: int, shifts: int, rng: random.Random
) -> None:
    """Activities of every community (by weight) over five years, and some in the coming
    month: the done ones with their sign-ups and walk-ins, check-ins, feedback and volunteer
    shifts (each credited as a confirmed hour log), the coming ones with sign-ups so far;
    about `registrations` registrations and `shifts` shifts in all."""
    total = max(1, round(registrations / 30))
    counts = allocate(total, [p.weight for p in ref.places])
    per_activity = shifts / max(total * 0.9, 1)
    existing = set(Registration.objects.values_list("code", flat=True))
    # Who signs up: residents with a mobile, up to a few hundred a community, read in one pass
    # (a query per community would be a scan each, the statistics of new tables unknown).
    residents_of: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for pk, community_id, name, phone in (
        Person.objects.filter(is_active=True, user__isnull=True)
        .exclude(phone="")
        .order_by("pk")
        .values_list("pk", "community_id", "name", "phone")
        .iterator(chunk_size=50_000)
    ):
        found = residents_of[community_id]
        if len(found) < 300:
            found.append((pk, name, phone))
    salt = rng.randrange(_CODE_SPACE)
    city, district = ref.users.get("city"), ref.users.get("district")
    district_org = ref.user_orgs.get("district")
    for p, n in zip(ref.places, counts, strict=True):
        if not n:
            continue
        residents = residents_of.get(p.pk, [])
        team = ref.volunteers.get(p.team_id or 0, [])
        staff = district if p.district_id == district_org else city
        for _ in range(n):
            plan = ACTIVITY_PLANS[int(rng.random() * len(ACTIVITY_PLANS))]
            ahead = rng.random() < 0.03
            day = ref.today + dt.timedelta(days=1 + int(rng.random() * 30)) if ahead else (
                ref.today - dt.timedelta(days=_days_back(rng)))  # fmt: skip
            day, start, end = activity_times(rng, day, plan.when)
            starts_at, ends_at = (
                ref.at(day, start.hour, start.minute),
                ref.at(day, end.hour, end.minute),
            )
            if ends_at <= ref.now:
                status = ActivityStatus.CANCELLED if rng.random() < 0.05 else ActivityStatus.DONE
            elif starts_at > ref.now:
                status = ActivityStatus.PUBLISHED if rng.random() < 0.7 else ActivityStatus.PLANNED
            else:
                continue  # under way right now: leave it out
            social = rng.random() < 0.4
            org = ref.nearby_org(rng, p) if social else None
            organizer = org or p.org_id
            venue = (
                p.venues[int(rng.random() * len(p.venues))]
                if p.venues and rng.random() < 0.5
                else None
            )
            capacity = 30 + 10 * int(rng.random() * 8)
            aid = w.new_id(Activity)
            created = min(ref.at(day - dt.timedelta(days=14 + int(rng.random() * 16)), 10), ref.now)
            done_at = ends_at + dt.timedelta(minutes=30 + int(rng.random() * 60))
            if status == ActivityStatus.DONE and done_at > ref.now:
                done_at = ref.now
            where = venue[1] if venue else rng.choice(PLACES)
            rows: list[tuple[Any, ...]] = []
            seats = 0
            if status in (ActivityStatus.DONE, ActivityStatus.PUBLISHED) and residents:
                share = (
                    rng.uniform(0.35, 0.9)
                    if status == ActivityStatus.DONE
                    else rng.uniform(0.1, 0.6)
                )
                want = int(capacity * share)
                phones: set[str] = set()
                while seats < want:
                    companions = 0 if rng.random() < 0.8 else 1 if rng.random() < 0.75 else 2
                    if seats + 1 + companions > capacity:
                        break
                    if rng.random() < 0.7:
                        person, name, phone = residents[int(rng.random() * len(residents))]
                    else:
                        person, name, phone = None, _name(rng), _mobile(rng)
                    if phone in phones:
                        continue
                    phones.add(phone)
                    seats += 1 + companions
                    rid = w.new_id(Registration)
                    code = _code(rid, salt)
                    bump = 1
                    while code in existing:
                        code = _code(rid + bump * 10**11, salt)
                        bump += 1
                    walk_in = status == ActivityStatus.DONE and rng.random() < 0.1
                    signed = starts_at if walk_in else min(
                        starts_at - dt.timedelta(hours=2 + int(rng.random() * 240)), ref.now)  # fmt: skip
                    checked = None
                    if status == ActivityStatus.DONE and (walk_in or rng.random() < 0.85):
                        checked = starts_at + dt.timedelta(minutes=int(rng.random() * 35) - 10)
                    rating, comment, feedback = None, "", None
                    if checked is not None and rng.random() < 0.4:
                        rating = _pick(rng, RATING_CUM) + 1
                        comment = (
                            rng.choice(ACTIVITY_COMMENTS[rating]) if rng.random() < 0.3 else ""
                        )
                        feedback = min(
                            ends_at + dt.timedelta(hours=1 + int(rng.random() * 47)), ref.now
                        )
                    by_staff = checked is not None and (walk_in or rng.random() < 0.5)
                    rows.append((
                        rid, aid, name, phone, companions, person, walk_in, code,
                        _token(rng, rid, 24), signed, checked, staff if by_staff else None,
                        rating, comment, feedback,
                    ))  # fmt: skip
            w.add(Activity, (
                aid, plan.title, p.pk, organizer,
                ref.project_for(org, p.pk, day) if org is not None else None,
                day, start, end, venue[0] if venue else None, None, "" if venue else where,
                capacity, seats, plan.description, status, _token(rng, aid, 24),
                _token(rng, aid, 28), staff, created,
                done_at if status == ActivityStatus.DONE else None,
                rng.choice(CANCEL_REASONS) if status == ActivityStatus.CANCELLED else "",
            ))  # fmt: skip
            for row in rows:
                w.add(Registration, row)
            if status not in (ActivityStatus.DONE, ActivityStatus.PUBLISHED) or not team:
                continue
            k = min(len(team), max(0, round(per_activity * rng.uniform(0.5, 1.5))))
            shift_start = dt.time(max(start.hour - 1, 7), start.minute)
            shift_end = dt.time(min(end.hour + 1, 23), end.minute)
            hours, outside = _split(day, shift_start, shift_end)
            for vid in rng.sample(team, k):
                log = None
                if status == ActivityStatus.DONE:
                    log = w.new_id(VolunteerHourLog)
                    w.add(VolunteerHourLog, (
                        log, vid, day, shift_start, shift_end, hours, outside,
                        f"社区活动：{plan.title}", where[:100], HourLogStatus.CONFIRMED, done_at,
                        staff, done_at, "",
                    ))  # fmt: skip
                w.add(VolunteerShift, (w.new_id(VolunteerShift), aid, vid, shift_start, shift_end,
                                       rng.choice(plan.tasks), log))  # fmt: skip


# ---- the bulk as a whole -------------------------------------------------------------------


def bulk_load(
    volume: Volume, seed: int, progress: Callable[[str], None] = lambda _m: None
) -> dict[str, float]:
    """Every bulk part at `volume`, each from its own random stream; returns the seconds of
    each part (generating and writing) and of the writer's own steps."""
    started = time.monotonic()
    ref = Ref.load()
    seal = Sealer()
    seconds: dict[str, float] = {"load": time.monotonic() - started}
    writer = Writer(COLUMNS)
    first_log = writer.next_ids[VolunteerHourLog]

    def rng(part: str) -> random.Random:
        return random.Random(f"delivery-{part}-{seed}")

    parts: list[tuple[str, Callable[[], None]]] = [
        ("surveys", lambda: bulk_surveys(ref, writer, volume.responses, rng("surveys"))),
        ("demands", lambda: bulk_demands(ref, writer, volume.demands, rng("demands"))),
        ("cases", lambda: bulk_cases(ref, writer, volume.cases, rng("cases"), seal, volume.contacts)),
        ("groups", lambda: bulk_groups(ref, writer, volume.attendance, rng("groups"))),
        ("activities", lambda: bulk_activities(ref, writer, volume.registrations, volume.shifts,
                                               rng("activities"))),
    ]  # fmt: skip
    for name, part in parts:
        began = time.monotonic()
        part()
        writer.flush()
        seconds[name] = time.monotonic() - began
        progress(f"delivery bulk: {name} in {seconds[name]:.1f} s")
    writer.finish()
    progress(f"delivery bulk: rebuilt indexes and constraints in {writer.seconds['rebuild']:.1f} s")
    # What activity_complete does for each credited shift: the volunteer's running total.
    with connection.cursor() as cursor:
        volunteers, logs = Volunteer._meta.db_table, VolunteerHourLog._meta.db_table
        cursor.execute(
            f"UPDATE {volunteers} SET hours_logged = {volunteers}.hours_logged + s.total"  # noqa: S608
            f" FROM (SELECT volunteer_id, SUM(hours) AS total FROM {logs} WHERE id >= %s"
            f" GROUP BY volunteer_id) s WHERE {volunteers}.id = s.volunteer_id",
            [first_log],
        )
    seconds.update({f"writer_{k}": v for k, v in writer.seconds.items()})
    seconds["total"] = time.monotonic() - started
    return seconds


# ---- the seeder --------------------------------------------------------------------------

COUNTED: tuple[tuple[str, Any], ...] = (
    ("surveys", Survey),
    ("survey_responses", SurveyResponse),
    ("survey_answers", Answer),
    ("demands", Demand),
    ("demand_events", DemandEvent),
    ("cases", Case),
    ("case_contacts", CaseContact),
    ("referrals", Referral),
    ("groups", Group),
    ("group_sessions", GroupSession),
    ("group_attendance", GroupAttendance),
    ("activities", Activity),
    ("registrations", Registration),
    ("volunteer_shifts", VolunteerShift),
)


class Seeder:
    """The story at every scale, then the bulk above the small scale."""

    def __init__(self, gen: Any) -> None:
        self.gen = gen
        self.scale = gen.name

        self.seed = gen.seed
        self.today = timezone.localdate()
        self.now = timezone.localtime(timezone.now())
        self.seal = Sealer()
        self.sheets = itertools.count()  # answer sheets sent, for their form numbers

    def say(self, message: str) -> None:
        """To the seed's caller, and to the log (the seed command shows no progress)."""
        self.gen.progress(message)
        log.info(message)

    def run(self) -> dict[str, int]:
        started = time.monotonic()
        self.load()
        self.story()
        self.say(f"delivery story in {time.monotonic() - started:.1f} s")
        volume = VOLUMES.get(self.scale)
        if volume is not None:
            bulk_load(volume, self.seed, self.say)
        counts = {name: model.objects.count() for name, model in COUNTED}
        self.say(f"delivery demo data in {time.monotonic() - started:.1f} s: {counts}")
        return counts

    # -- who and where -----------------------------------------------------------------------
    def load(self) -> None:
        self.ref = Ref.load(with_people=False)
        self.users = {
            u.username: u
            for u in User.objects.filter(
                username__in=("city", "district", "cadre", "orgmanager", "worker", "volunteer")
            ).select_related("organization")
        }
        self.communities = list(
            Community.objects.active()
            .select_related("organization", "street", "district")
            .order_by("pk")[:STORY_COMMUNITIES]
        )
        self.home = self.communities[0]
        self.org0 = self.users["orgmanager"].organization
        assert self.org0 is not None
        me = SocialWorker.objects.select_related("person").get(person__user=self.users["worker"])
        self.me = me
        self.colleagues = list(
            SocialWorker.objects.filter(organization=self.org0, status=SocialWorkerStatus.ACTIVE)
            .exclude(pk=me.pk)
            .select_related("person")
            .order_by("pk")
        )
        self.projects = list(
            ServiceProject.objects.filter(
                status__in=(ProjectStatus.ACTIVE, ProjectStatus.CLOSING, ProjectStatus.ACCEPTED)
            )
            .prefetch_related("communities")
            .order_by("pk")
        )
        self.running = next(
            p
            for p in self.projects
            if p.organization_id == self.org0.pk and p.status == ProjectStatus.ACTIVE
        )
        self.served = [c for c in self.running.communities.order_by("pk")]
        workers = {sw.person_id for sw in SocialWorker.objects.all().only("person_id")}
        self.people: dict[int, list[Person]] = {}
        for c in self.communities:
            self.people[c.pk] = [
                p
                for p in Person.objects.filter(community=c, is_active=True, user__isnull=True)
                .exclude(phone="")
                .order_by("pk")
                if p.pk not in workers
            ]
        for c in self.served:
            if c.pk not in self.people:
                self.people[c.pk] = list(
                    Person.objects.filter(community=c, is_active=True, user__isnull=True)
                    .exclude(phone="")
                    .order_by("pk")[:200]
                )

    def user(self, name: str) -> User:
        return self.users[name]

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return self.ref.at(day, hour, minute)

    def area_user(self, community: Community) -> User:
        """The demo account of the area over a community: its cadre, its district, the city."""
        if community.pk == self.home.pk:
            return self.user("cadre")
        if community.district_id == self.user("district").organization_id:
            return self.user("district")
        return self.user("city")

    def story(self) -> None:
        began = time.monotonic()

        def done(part: str) -> None:
            nonlocal began
            self.say(f"delivery story: {part} in {time.monotonic() - began:.1f} s")
            began = time.monotonic()

        self.story_surveys()
        done("surveys")
        parts = (Demand, DemandEvent, RoutingCorrection, Case, CaseGoal, CaseContact,
                 CaseFollowUp, Referral)  # fmt: skip
        writer = Writer({m: COLUMNS[m] for m in parts})
        self.story_demands(writer)
        self.story_cases(writer)
        writer.finish()
        done("demands and cases")
        self.say(
            "delivery story: checks queued by the earlier parts run in "
            f"{writer.seconds['queued_checks']:.1f} s"
        )
        self.story_groups()
        done("groups")
        self.story_activities()
        done("activities")

    # -- 需求调查 ------------------------------------------------------------------------------
    def story_surveys(self) -> None:
        """The city's yearly needs survey of the eight communities, closed, with its answers
        and its needs linked to project calls; the cadre's open survey of new-employment
        workers; the district's draft for next year."""
        from .services import surveys as svc

        rng = random.Random(f"delivery-surveys-story-{self.seed}")
        city, cadre, district = self.user("city"), self.user("cadre"), self.user("district")
        opens = self.at(self.today - dt.timedelta(days=100), 9)
        closes = self.at(self.today - dt.timedelta(days=55), 18)
        survey = svc.survey_create(
            by=city,
            title=f"{opens.year}年度社区职工群众需求调查",
            communities=self.communities,
            opens_at=opens,
            closes_at=closes,
            intro="为精准对接职工群众需求、编制购买服务项目指南，市总工会在试点社区开展本次调查。"
            "问卷匿名填写，约需三分钟，感谢您的参与！",
        )

        def add(kind: str, text: str, options: Sequence[str] = (), **extra: Any) -> Question:
            return svc.question_add(
                survey=survey, by=city, kind=kind, text=text, options=options, **extra
            )

        add(QuestionKind.SINGLE, "您的身份", IDENTITIES)
        add(QuestionKind.SINGLE, "您的年龄段", AGE_BANDS)
        add(QuestionKind.MULTIPLE, "您和家人目前最需要社区提供哪些服务？（可多选）", NEEDS,
            is_need_question=True)  # fmt: skip
        new_worker = QuestionOption.objects.get(question__survey=survey, text="新就业形态劳动者")
        add(QuestionKind.MULTIPLE, "作为新就业形态劳动者，您最关心哪些问题？（可多选）",
            NEW_WORKER_CONCERNS, show_if_option=new_worker)  # fmt: skip
        add(QuestionKind.LIKERT, "您对社区工会现有服务的总体满意度")
        add(QuestionKind.NUMBER, "您家中需要照护的老人和儿童共有几人？")
        add(QuestionKind.SHORT_TEXT, "您最希望社区工会开展的一项活动", required=False)
        add(QuestionKind.LONG_TEXT, "其他意见和建议", required=False)
        survey = svc.survey_publish(survey=survey, by=city, now=opens - dt.timedelta(days=1))
        per_tier = {Tier.STAR: 70, Tier.ORDINARY: 40, Tier.WEAK: 20}
        for c in self.communities:
            for _ in range(per_tier.get(c.tier, 30) + int(rng.random() * 9) - 4):
                self.respond(rng, survey, c, opens, closes)
        survey = svc.survey_close(survey=survey, by=city, now=closes)
        Survey.objects.filter(pk=survey.pk).update(created_at=opens - dt.timedelta(days=7))
        # The needs that this year's calls answer.
        answered = {
            ServiceField.ELDERLY: "助老服务",
            ServiceField.FAMILY: "困难帮扶",
            ServiceField.YOUTH: "托育/四点半课堂",
            ServiceField.EMPLOYMENT: "就业帮扶",
            ServiceField.MENTAL_HEALTH: "心理疏导",
            ServiceField.LEGAL: "法律援助",
        }
        options = {o.text: o for o in svc.need_options(survey)}
        for service_field, need in answered.items():
            call = ProjectCall.objects.filter(service_field=service_field).order_by("pk").first()
            if call is not None:
                svc.call_need_link(option=options[need], call=call, by=city)

        # Open now: the cadre asks the community's couriers and riders.
        opens = self.at(self.today - dt.timedelta(days=12), 9)
        open_survey = svc.survey_create(
            by=cadre,
            title=f"{self.home.name}新就业形态劳动者服务需求调查",
            communities=[self.home],
            opens_at=opens,
            closes_at=self.at(self.today + dt.timedelta(days=18), 18),
            intro="了解快递员、外卖骑手、网约车司机的工作和生活需求，建设“暖心驿站”。",
        )
        for kind, text, choices, is_need, required in (
            (QuestionKind.SINGLE, "您的职业", ["快递员", "外卖骑手", "网约车司机", "其他"], False, True),
            (QuestionKind.MULTIPLE, "您最需要“暖心驿站”提供哪些服务？（可多选）",
             ["休息场所", "饮水热饭", "手机充电", "法律咨询", "入会服务"], True, True),
            (QuestionKind.LIKERT, "您对加入工会的意愿", [], False, True),
            (QuestionKind.SHORT_TEXT, "您的其他建议", [], False, False),
        ):  # fmt: skip
            svc.question_add(survey=open_survey, by=cadre, kind=kind, text=text, options=choices,
                             is_need_question=is_need, required=required)  # fmt: skip
        open_survey = svc.survey_publish(survey=open_survey, by=cadre, now=opens)
        shape = svc.survey_shape(open_survey)
        for i in range(18 + int(rng.random() * 10)):
            at = opens + dt.timedelta(
                seconds=int(rng.random() * (self.now - opens).total_seconds())
            )
            answers: list[tuple[Any, Any]] = []
            for q in shape.questions:
                ids = [o.id for o in q.options]
                if q.kind == QuestionKind.SINGLE:
                    answers.append((q, ids[_pick(rng, _cum((40, 45, 12, 3)))]))
                elif q.kind == QuestionKind.MULTIPLE:
                    answers.append((q, rng.sample(ids, 1 + int(rng.random() * 3))))
                elif q.kind == QuestionKind.LIKERT:
                    answers.append((q, 3 + int(rng.random() * 3)))
                elif rng.random() < 0.3:
                    answers.append(
                        (q, rng.choice(("希望驿站晚上也开放", "希望有充电柜", "希望有热水")))
                    )
            svc.response_submit(
                survey=open_survey, community_id=self.home.pk, answers=answers,
                nonce=f"demo-{open_survey.pk}-{i}",
                device_hash=svc.keyed_hash("device", f"demo-{open_survey.pk}-{i}"), now=at,
            )  # fmt: skip
        Survey.objects.filter(pk=open_survey.pk).update(created_at=opens - dt.timedelta(days=3))

        # A draft for next year, by the district.
        mine = [c for c in self.communities if c.district_id == district.organization_id]
        if mine:
            draft = svc.survey_create(
                by=district,
                title=f"{self.today.year + 1}年度购买服务项目需求摸底",
                communities=mine,
                opens_at=self.at(self.today + dt.timedelta(days=20), 9),
                closes_at=self.at(self.today + dt.timedelta(days=50), 18),
                intro="（草稿）为编制下一年度项目指南摸底职工需求。",
            )
            svc.question_add(survey=draft, by=district, kind=QuestionKind.MULTIPLE,
                             text="您最希望下一年度增加哪些服务？（可多选）", options=NEEDS,
                             is_need_question=True)  # fmt: skip
            svc.question_add(survey=draft, by=district, kind=QuestionKind.LIKERT,
                             text="您对今年社区服务项目的满意度")  # fmt: skip

    def respond(
        self,
        rng: random.Random,
        survey: Survey,
        community: Community,
        opens: dt.datetime,
        closes: dt.datetime,
    ) -> None:
        """One resident's answers to the yearly survey, as the answer page sends them."""
        from .services import surveys as svc

        shape = svc.survey_shape(survey)
        q = {question.seq: question for question in shape.questions}
        ids = {seq: [o.id for o in question.options] for seq, question in q.items()}
        identity = _pick(rng, _cum((52, 28, 12, 8)))
        retired = identity == 1
        band = (
            3
            if retired and rng.random() < 0.8
            else 2
            if retired
            else _pick(rng, _cum((35, 40, 25)))
        )
        weights = list(NEED_WEIGHTS.get(community.tier, NEED_WEIGHTS[Tier.ORDINARY]))
        if retired:
            weights = [max(w + b, 1) for w, b in zip(weights, RETIREE_BOOST, strict=True)]
        needs = _needs(rng, _cum(weights))
        answers: list[tuple[Any, Any]] = [
            (q[1], ids[1][identity]),
            (q[2], ids[2][band]),
            (q[3], [ids[3][i] for i in needs]),
        ]
        if identity == 2:
            answers.append((q[4], rng.sample(ids[4], 1 + int(rng.random() * 2))))
        answers.append(
            (
                q[5],
                _pick(rng, LIKERT_WEIGHTS.get(community.tier, LIKERT_WEIGHTS[Tier.ORDINARY])) + 1,
            )
        )
        answers.append((q[6], _pick(rng, _cum((30, 35, 22, 10, 3)))))
        if rng.random() < 0.3:
            answers.append((q[7], rng.choice(SUGGESTIONS)))
        if rng.random() < 0.08:
            answers.append((q[8], rng.choice(LONG_SUGGESTIONS)))
        span = (closes - opens).total_seconds()
        at = opens + dt.timedelta(seconds=int(rng.random() * span * 0.98))
        n = next(self.sheets)
        svc.response_submit(
            survey=survey, community_id=community.pk, answers=answers,
            nonce=f"demo-{survey.pk}-{n}", device_hash=svc.keyed_hash("device", f"demo-{survey.pk}-{n}"),
            now=at,
        )  # fmt: skip

    # -- 诉求 ----------------------------------------------------------------------------------
    def story_demands(self, w: Writer) -> None:
        """The rules the city and the district keep, and demands in every status: fresh and
        overdue ones waiting, accepted, in progress (one past its deadline), resolved (a
        dispute settled in the community), closed with every score, rejected; some that no
        rule covered, routed by hand; some under the demo organisation's running project."""
        from .services import demands as svc

        rng = random.Random(f"delivery-demands-story-{self.seed}")
        city, district = self.user("city"), self.user("district")
        d0 = district.organization
        assert d0 is not None and city.organization is not None
        home_org = self.home.organization
        committee = Organization.objects.filter(
            parent=home_org, kind=OrgKind.RESIDENTS_COMMITTEE
        ).first()
        in_d0 = Organization.objects.filter(
            kind=OrgKind.SOCIAL_ORG, is_active=True, path__startswith=d0.path
        ).exclude(pk=self.org0.pk)
        counsellor = in_d0.order_by("pk").first() or self.org0
        lawyer = (
            Organization.objects.filter(kind=OrgKind.SOCIAL_ORG, is_active=True)
            .exclude(pk=self.org0.pk)
            .order_by("pk")
            .last()
            or self.org0
        )
        svc.routing_rule_create(
            by=city,
            category=DemandCategory.EMPLOYMENT,
            organization=city.organization,
            note="市总工会职工服务中心统一对接",
        )
        svc.routing_rule_create(
            by=city, category=DemandCategory.LEGAL, organization=lawyer, note="购买法律服务"
        )
        svc.routing_rule_create(
            by=district,
            category=DemandCategory.LABOUR,
            organization=d0,
            note="区总工会劳动争议调解中心",
        )
        svc.routing_rule_create(
            by=district, category=DemandCategory.ELDERLY, organization=self.org0
        )
        svc.routing_rule_create(
            by=district, category=DemandCategory.HARDSHIP, organization=self.org0
        )
        svc.routing_rule_create(
            by=district, category=DemandCategory.MENTAL, organization=counsellor
        )
        if committee is not None:
            svc.routing_rule_create(
                by=district,
                category=DemandCategory.PROPERTY,
                organization=committee,
                community=self.home,
            )
        svc.routing_rule_create(by=district, category=DemandCategory.NEIGHBOUR,
                                organization=self.home.street, street=self.home.street)  # fmt: skip
        RoutingRule.objects.update(created_at=self.now - dt.timedelta(days=400))

        # (community, category, channel, days ago, status, score, settled in the community)
        home, weak = (
            self.home,
            next(
                (c for c in self.communities if c.tier == Tier.WEAK and c.district_id != d0.pk),
                self.communities[-1],
            ),
        )
        fixed: list[tuple[Community, str, str, int, str, int | None, bool | None]] = [
            (home, DemandCategory.ELDERLY, DemandChannel.PHONE, 1, "received", None, None),
            (home, DemandCategory.PROPERTY, DemandChannel.WALK_IN, 9, "received", None, None),
            (home, DemandCategory.HARDSHIP, DemandChannel.PUBLIC_PAGE, 2, "accepted", None, None),
            (home, DemandCategory.LABOUR, DemandChannel.HOTLINE, 45, "in_progress", None, None),
            (home, DemandCategory.NEIGHBOUR, DemandChannel.WALK_IN, 12, "resolved", None, True),
            (home, DemandCategory.LEGAL, DemandChannel.PUBLIC_PAGE, 60, "closed", 5, None),
            (home, DemandCategory.ELDERLY, DemandChannel.PHONE, 100, "closed", 4, None),
            (home, DemandCategory.OTHER, DemandChannel.PUBLIC_PAGE, 30, "rejected", None, None),
            (home, DemandCategory.PROPERTY, DemandChannel.PHONE, 150, "closed", 3, True),
            (weak, DemandCategory.EDUCATION, DemandChannel.PUBLIC_PAGE, 3, "received", None, None),
            (weak, DemandCategory.LABOUR, DemandChannel.WALK_IN, 20, "in_progress", None, None),
            (weak, DemandCategory.HARDSHIP, DemandChannel.PHONE, 80, "closed", 2, None),
            (weak, DemandCategory.NEIGHBOUR, DemandChannel.WALK_IN, 200, "closed", 1, False),
        ]
        per_tier = {Tier.STAR: 7, Tier.ORDINARY: 5, Tier.WEAK: 3}
        for c in self.communities:
            for _ in range(per_tier.get(c.tier, 4)):
                age = int(330 * rng.random() ** 1.6)
                category = CATEGORIES[
                    _pick(rng, CATEGORY_CUM.get(c.tier, CATEGORY_CUM[Tier.ORDINARY]))
                ]
                fixed.append((c, category, CHANNELS[_pick(rng, CHANNEL_CUM)], age,
                              status_for_age(rng, age), None, None))  # fmt: skip
        staff_of = {
            self.org0.pk: self.user("orgmanager"),
            home_org.pk: self.user("cadre"),
            d0.pk: district,
            city.organization.pk: city,
        }
        for c, category, channel, age, status, score, mediated in fixed:
            received = self.at(self.today - dt.timedelta(days=age), 8 + int(rng.random() * 10),
                               int(rng.random() * 60))  # fmt: skip
            if received > self.now:
                received = self.now - dt.timedelta(hours=1 + rng.random() * 3)
            suggestion = svc.routing_suggestion(community=c, category=category)
            area = self.area_user(c)
            reroute = None
            handler = suggestion.organization
            if handler is None and status != DemandStatus.RECEIVED:
                # No rule: someone of the area routed it by hand.
                target = (
                    c.street if category == DemandCategory.LABOUR
                    else Organization.objects.filter(parent=c.organization,
                                                     kind=OrgKind.RESIDENTS_COMMITTEE).first()
                    if category in DISPUTE_CATEGORIES
                    else c.organization
                ) or c.organization  # fmt: skip
                reroute = (None, target.pk, target.name, area.pk, str(area))
            handling = Organization.objects.get(pk=reroute[1]) if reroute else handler
            staff = staff_of.get(handling.pk, area) if handling is not None else area
            project = None
            if (
                handling is not None
                and handling.pk == self.org0.pk
                and c in self.served
                and (received.date() >= self.running.starts_on)
            ):
                project = self.running.pk
            recorder = self.user("cadre") if c.pk == home.pk else area
            plan = plan_demand(
                rng,
                now=self.now,
                community_id=c.pk,
                street_id=c.street_id,
                tier=c.tier,
                category=category,
                channel=channel,
                received_at=received,
                status=status,
                handler=(handler.pk, handler.name) if handler else None,
                routing=(suggestion.source, suggestion.reason),
                recorder=(recorder.pk, str(recorder)),
                staff=(staff.pk, str(staff)),
                reroute=reroute,
                project_id=project,
                satisfaction=score,
                mediated=mediated,
            )
            pk = w.new_id(Demand)
            plan.fields.update(id=pk, token=_token(rng, pk, 36))
            w.add_dict(Demand, plan.fields)
            for e in plan.events:
                w.add(DemandEvent, (w.new_id(DemandEvent), pk, *e))
            if plan.correction is not None:
                plan.correction.update(id=w.new_id(RoutingCorrection), demand_id=pk)
                w.add_dict(RoutingCorrection, plan.correction)
        w.flush()

    # -- 个案 ----------------------------------------------------------------------------------
    def story_cases(self, w: Writer) -> None:
        """The demo social worker's files in every phase (her colleague supervises them), the
        files of colleagues she supervises (two wait for her sign-off), more files under the
        running project, and another organisation's files, one of them referred to hers."""
        rng = random.Random(f"delivery-cases-story-{self.seed}")
        me, worker_user = self.me, self.user("worker")
        supervising = [c for c in self.colleagues if c.qualification != Qualification.ASSISTANT
                       or c.is_supervisor]  # fmt: skip
        my_supervisor = supervising[0] if supervising else None
        supervised = [c for c in self.colleagues if c != my_supervisor][:3] or self.colleagues[:1]
        clients = [p for c in self.served for p in self.people.get(c.pk, [])]
        rng.shuffle(clients)
        clients += [p for p in self.people[self.home.pk] if p not in clients]
        taken: set[int] = set()

        def client() -> Person:
            for p in clients:
                if p.pk not in taken:
                    taken.add(p.pk)
                    return p
            return clients[int(rng.random() * len(clients))]

        others = Organization.objects.filter(kind=OrgKind.SOCIAL_ORG, is_active=True).exclude(
            pk=self.org0.pk
        )
        elsewhere = list(others.order_by("pk")[:4])

        def case(
            worker: SocialWorker, supervisor: SocialWorker | None, phase: str, days: int, *,
            author: User, reason: str = "", refer_to: Organization | None = None,
            refer: str = "", contacts: int | None = None, category: str | None = None,
            supervisor_user: User | None = None,
        ) -> CasePlan:  # fmt: skip
            person = client()
            opened = self.today - dt.timedelta(days=days)
            org = worker.organization_id
            plan = plan_case(
                rng, self.seal, today=self.today, at=self.at, phase=phase, opened_on=opened,
                organization_id=org, worker_id=worker.pk,
                supervisor_id=supervisor.pk if supervisor else None, person_id=person.pk,
                project_id=self.ref.project_for(org, person.community_id, opened),
                author_id=author.pk,
                supervisor_user_id=supervisor_user.pk if supervisor_user else None,
                closure_reason=reason, contacts=contacts,
                referral_to=refer_to.pk if refer_to else None, refer=refer,
                problem_category=category,
            )  # fmt: skip
            return plan

        plans: list[CasePlan] = []
        mine = [
            (CasePhase.INTAKE, 2, {}),
            (CasePhase.NOT_TAKEN, 20, {}),
            (CasePhase.ASSESSMENT, 10, {}),
            (CasePhase.PLANNING, 25, {}),
            (CasePhase.PLANNING, 18, {}),
            (CasePhase.INTERVENTION, 70, {"contacts": 7}),
            (CasePhase.INTERVENTION, 40, {"refer": ReferralStatus.PENDING, "contacts": 3}),
            (CasePhase.EVALUATION, 120, {}),
            (CasePhase.CLOSING, 150, {"reason": ClosureReason.GOALS_MET}),
            (CasePhase.CLOSED, 210, {"reason": ClosureReason.GOALS_MET}),
            (CasePhase.CLOSED, 180, {"reason": ClosureReason.REFERRED}),
            (CasePhase.CLOSED, 90, {"reason": ClosureReason.WITHDREW}),
        ]
        for phase, days, extra in mine:
            refer_to = elsewhere[len(plans) % len(elsewhere)] if elsewhere else None
            plan = case(me, my_supervisor, phase, days, author=worker_user, refer_to=refer_to,
                        **extra)  # type: ignore[arg-type]  # fmt: skip
            plans.append(plan)
        # The plan of the second planning file came back from the supervisor; the referred
        # file was first declined by another organisation.
        plans[4].fields.update(plan_submitted_at=None,
                               returned_note="请细化服务目标的衡量方式，补充时间安排。")  # fmt: skip
        referred = plans[10]
        if referred.referrals and len(elsewhere) > 1:
            first = dict(referred.referrals[0])
            when = first["created_at"] - dt.timedelta(days=10)
            first.update(to_org_id=elsewhere[-1].pk, status=ReferralStatus.DECLINED,
                         decline_reason=DECLINE_REASONS[0], created_at=when,
                         decided_at=when + dt.timedelta(days=2))  # fmt: skip
            referred.referrals.insert(0, first)
        # Colleagues' files that the demo worker supervises.
        for i, (phase, days, extra) in enumerate([
            (CasePhase.PLANNING, 30, {}),
            (CasePhase.CLOSING, 160, {"reason": ClosureReason.GOALS_MET}),
            (CasePhase.INTERVENTION, 50, {"refer": ReferralStatus.PENDING}),
            (CasePhase.CLOSED, 260, {"reason": ClosureReason.GOALS_MET}),
            (CasePhase.INTERVENTION, 95, {}),
        ]):  # fmt: skip
            colleague = supervised[i % len(supervised)]
            refer_to = elsewhere[0] if elsewhere else None
            plan = case(colleague, me, phase, days, author=worker_user,
                        supervisor_user=worker_user, refer_to=refer_to, **extra)  # type: ignore[arg-type]  # fmt: skip
            plans.append(plan)
        sent = plans[-3]
        planning = plans[-5]
        planning.fields["plan_submitted_at"] = self.at(self.today - dt.timedelta(days=2), 16)
        planning.fields["returned_note"] = ""
        # A risk to life: the supervisor shared the file without the person's consent.
        for r in sent.referrals:
            r.update(share_basis=ShareBasis.OVERRIDE, consent_on=None,
                     summary_encrypted=self.seal(REFERRAL_SUMMARIES[0]),
                     override_reason="服务对象有自伤风险，需立即由专业机构介入。",
                     override_by_id=worker_user.pk)  # fmt: skip
        # More of the organisation's files under its running project.
        for _ in range(8):
            colleague = (
                self.colleagues[int(rng.random() * len(self.colleagues))] if self.colleagues else me
            )
            days = int(rng.random() * max((self.today - self.running.starts_on).days - 5, 5))
            drawn = phase_for_age(rng, days)
            sup = me if colleague != me else my_supervisor
            plans.append(case(colleague, sup, drawn, days, author=worker_user,
                              supervisor_user=worker_user if sup == me else None,
                              refer_to=elsewhere[0] if elsewhere else None))  # fmt: skip
        # Another organisation's files: one referred to the demo organisation, waiting.
        for org in elsewhere[:2]:
            staff = list(SocialWorker.objects.filter(organization=org, status=SocialWorkerStatus.ACTIVE)
                         .order_by("pk"))  # fmt: skip
            if not staff:
                continue
            sups = [
                s for s in staff if s.qualification != Qualification.ASSISTANT or s.is_supervisor
            ]
            for j, (phase, days) in enumerate(((CasePhase.INTERVENTION, 60), (CasePhase.CLOSED, 240),
                                               (CasePhase.ASSESSMENT, 8))):  # fmt: skip
                lead = staff[j % len(staff)]
                sup = next((s for s in sups if s != lead), None)
                if sup is None and phase != CasePhase.ASSESSMENT:
                    phase = CasePhase.ASSESSMENT
                plans.append(case(lead, sup, phase, days, author=worker_user,
                                  refer_to=self.org0 if j == 0 else None,
                                  refer=ReferralStatus.PENDING if j == 0 else ""))  # fmt: skip
        for plan in plans:
            _write_case(w, plan)
        w.flush()

    # -- 小组 ----------------------------------------------------------------------------------
    def story_groups(self) -> None:
        """Through the services: a support group of the running project in its fourth week,
        an ended group of last year's project with its post-test and evaluation, a growth
        group that has just formed, a stress group still recruiting; another organisation's
        group half way."""
        from .services import groups as svc

        rng = random.Random(f"delivery-groups-story-{self.seed}")
        me, by = self.me, self.user("worker")
        home, served = self.home, [c for c in self.served if c.pk != self.home.pk]
        last_year = next(
            (p for p in self.projects if p.organization_id == self.org0.pk
             and p.status == ProjectStatus.ACCEPTED), None,
        )  # fmt: skip
        co = self.colleagues[:1]

        def saturday(days_ago: int) -> dt.date:
            day = self.today - dt.timedelta(days=days_ago)
            return day - dt.timedelta(days=(day.weekday() - 5) % 7)

        def run(
            plan: GroupPlan, community: Community, leader: SocialWorker, *, first: dt.date,
            planned: int, held: int, phase: str, project: ServiceProject | None,
            size: int = 10, times: tuple[dt.time, dt.time] = (dt.time(9, 30), dt.time(11, 0)),
            co_leaders: Sequence[SocialWorker] = (),
        ) -> None:  # fmt: skip
            scale_name, low, high, better = plan.scale
            group = svc.group_create(
                by=by if leader.organization_id == self.org0.pk else None, name=plan.name,
                kind=plan.kind, goals=plan.goals, target_members=plan.target,
                planned_sessions=planned, leader=leader, community=community,
                scale_name=scale_name, scale_min=Decimal(low), scale_max=Decimal(high),
                higher_is_better=better, co_leaders=co_leaders, project=project,
            )  # fmt: skip
            people = [p for p in self.people.get(community.pk, []) if p.pk != leader.person_id]
            chosen = rng.sample(people, min(size, len(people)))
            recruiting = phase == GroupPhase.PREPARATION
            members = [
                svc.member_add(
                    group=group,
                    person=p,
                    consent=not recruiting or i % 3 != 0,
                    enroll=not recruiting or i % 3 != 0,
                )
                for i, p in enumerate(chosen)
            ]
            created = first - dt.timedelta(days=21)
            GroupMember.objects.filter(group=group).update(
                applied_on=created + dt.timedelta(days=5)
            )
            changes: dict[str, dt.date] = {GroupPhase.PREPARATION: created}
            if not recruiting:
                svc.group_advance(group=group, to=GroupPhase.FORMATION)
                changes[GroupPhase.FORMATION] = first
                centre = 0.45 if better else 0.6
                svc.scores_record(group=group, which="pre",
                                  scores={m.pk: _score(rng, low, high, centre) for m in members})  # fmt: skip
            leaving = members[-1] if held >= 3 else None
            for number in range(1, held + 1):
                day = first + dt.timedelta(days=7 * (number - 1))
                present = [m for m in members if not (leaving and m == leaving and number > 2)]
                marks = {m.pk: rng.choice(("present",) * 8 + ("late", "absent")) for m in present}
                session = svc.session_record(
                    group=group, by=by if leader.organization_id == self.org0.pk else None,
                    held_on=day, starts_at=times[0], ends_at=times[1],
                    theme=plan.themes[(number - 1) % len(plan.themes)],
                    activities="破冰游戏、主题分享、小组讨论", notes="组员参与积极，气氛融洽。",
                    attendance=marks,
                )  # fmt: skip
                GroupSession.objects.filter(pk=session.pk).update(recorded_at=self.at(day, 21))
                if leaving is not None and number == 2:
                    svc.member_set_status(member=leaving, status=GroupMemberStatus.WITHDRAWN,
                                          reason=rng.choice(WITHDRAW_REASONS))  # fmt: skip
                for target, at_session in ((GroupPhase.TRANSITION, planned // 3 + 1),
                                           (GroupPhase.MATURITY, 2 * planned // 3 + 1)):  # fmt: skip
                    if number == at_session and GroupPhase.values.index(
                        phase
                    ) >= GroupPhase.values.index(target):
                        svc.group_advance(group=group, to=target)
                        changes[target] = day
            group.refresh_from_db()
            last = first + dt.timedelta(days=7 * max(held - 1, 0))
            while GroupPhase.values.index(group.phase) < GroupPhase.values.index(phase):
                following = group.next_phase or ""
                group = svc.group_advance(group=group, to=following)
                changes.setdefault(
                    following, last + dt.timedelta(days=7 if following == GroupPhase.ENDING else 0)
                )
            if phase == GroupPhase.ENDING:
                ended = changes[GroupPhase.ENDING]
                scores = {}
                for m in GroupMember.objects.filter(group=group, status=GroupMemberStatus.ENROLLED):
                    gain = (high - low) * rng.uniform(-0.03, 0.2)
                    value = float(m.pre_score or low) + (gain if better else -gain)
                    scores[m.pk] = Decimal(round(min(max(value, low), high)))
                svc.scores_record(group=group, which="post", scores=scores)
                svc.group_evaluate(group=group, text="小组目标基本达成：组员之间建立了互助关系，"
                                   "量表后测平均得分较前测改善，组员希望结束后继续自发聚会。")  # fmt: skip
                Group.objects.filter(pk=group.pk).update(
                    evaluated_at=self.at(ended + dt.timedelta(days=3), 10)
                )
            Group.objects.filter(pk=group.pk).update(
                created_at=self.at(created, 10), phase_changed_at=self.at(changes[phase], 9)
            )

        run(GROUP_PLANS[3], home, me, first=saturday(35), planned=8, held=5,
            phase=GroupPhase.MATURITY, project=self.running, co_leaders=co)  # fmt: skip
        if last_year is not None and home in last_year.communities.all():
            start = saturday(max((self.today - last_year.starts_on).days - 90, 60))
            run(GROUP_PLANS[0], home, me, first=start, planned=6, held=6, phase=GroupPhase.ENDING,
                project=last_year, size=12)  # fmt: skip
        if served:
            run(GROUP_PLANS[1], served[0], me, first=self.today - dt.timedelta(days=4),
                planned=8, held=1, phase=GroupPhase.FORMATION, project=self.running, size=9,
                times=(dt.time(16, 30), dt.time(18, 0)))  # fmt: skip
        run(GROUP_PLANS[2], home, me, first=saturday(-9), planned=6, held=0,
            phase=GroupPhase.PREPARATION, project=self.running, size=6,
            times=(dt.time(19, 0), dt.time(20, 30)), co_leaders=co)  # fmt: skip
        other = next(
            (p for p in self.projects if p.organization_id != self.org0.pk
             and p.status == ProjectStatus.ACTIVE), None,
        )  # fmt: skip
        if other is not None:
            leaders = list(SocialWorker.objects.filter(organization_id=other.organization_id,
                                                       status=SocialWorkerStatus.ACTIVE).order_by("pk"))  # fmt: skip
            where = [c for c in other.communities.order_by("pk") if c.pk in self.people]
            if leaders and where:
                run(GROUP_PLANS[4], where[0], leaders[0], first=saturday(28), planned=6, held=4,
                    phase=GroupPhase.TRANSITION, project=other)  # fmt: skip

    # -- 社区活动 ------------------------------------------------------------------------------
    def story_activities(self) -> None:
        """Through the services, each at its own time: done activities with sign-ups,
        check-ins by code, at the door and as walk-ins, volunteer shifts credited and
        feedback; coming ones taking sign-ups; one planned; one cancelled."""
        from .services import activities as svc

        rng = random.Random(f"delivery-activities-story-{self.seed}")
        cadre, manager, district = (
            self.user("cadre"),
            self.user("orgmanager"),
            self.user("district"),
        )
        home = self.home
        d0_other = next(
            (c for c in self.communities[1:] if c.district_id == district.organization_id), home
        )
        shared_home = Venue.objects.filter(community=home, is_active=True, is_shared=True).first()

        def on(days: int, when: str) -> tuple[dt.date, dt.time, dt.time]:
            return activity_times(rng, self.today + dt.timedelta(days=days), when)

        plans: list[tuple[User, Community, str, int, str, ServiceProject | None, str, int]] = [
            # (organiser, community, title, days from today, when, project, outcome, capacity)
            (manager, home, "“暖心驿站”亲子手工课", -16, "weekend", self.running, "done", 24),
            (cadre, home, "重阳节敬老饺子宴", -45, "day", None, "done", 40),
            (cadre, home, "劳动法律知识讲座", -25, "evening", None, "done", 30),
            (manager, home, "职工心理健康减压讲座", -70, "evening", self.running, "done", 25),
            (district, d0_other, "职工趣味运动会", -100, "weekend", None, "done", 40),
            (cadre, home, "春节写春联送福", -290, "weekend", None, "done", 30),
            (cadre, home, "冬季送温暖暨迎新春联欢会", 12, "weekend", None, "published", 60),
            (manager, home, "“暖心驿站”骑手恳谈会", 6, "evening", self.running, "published", 30),
            (district, d0_other, "元旦健步走", 30, "weekend", None, "planned", 100),
            (cadre, home, "户外健步走", -10, "weekend", None, "cancelled", 40),
        ]
        for by, community, title, days, when, project, outcome, capacity in plans:
            day, start, end = on(days, when)
            if outcome == "done" and day >= self.today:
                day -= dt.timedelta(days=7)
            template = next((a for a in ACTIVITY_PLANS if a.title == title), None)
            description = template.description if template else f"{title}，欢迎职工群众报名参加。"
            created = min(
                self.at(day - dt.timedelta(days=20), 10), self.now - dt.timedelta(hours=1)
            )
            venue = (
                shared_home
                if (by == manager and shared_home is not None and rng.random() < 0.5)
                else None
            )
            fields: dict[str, Any] = {
                "by": by, "title": title, "community": community, "date": day,
                "start_time": start, "end_time": end, "capacity": capacity,
                "description": description, "project": project, "now": created,
            }  # fmt: skip
            try:
                activity = svc.activity_create(venue=venue, **fields)
            except ValidationError:  # the venue is taken or closed then: somewhere else
                activity = svc.activity_create(place=rng.choice(PLACES), **fields)
            Activity.objects.filter(pk=activity.pk).update(created_at=created)
            if outcome == "planned":
                continue
            activity = svc.activity_publish(
                activity=activity, by=by, now=created + dt.timedelta(hours=2)
            )
            starts_at = activity.starts_at
            signups_until = min(starts_at - dt.timedelta(hours=2), self.now)
            opened = created + dt.timedelta(hours=3)
            people = list(self.people.get(community.pk, []))
            rng.shuffle(people)
            want = int(
                capacity
                * (rng.uniform(0.5, 0.8) if outcome != "published" else rng.uniform(0.2, 0.5))
            )
            registrations: list[Registration] = []
            seats = 0
            while seats < want - 2:
                if people and rng.random() < 0.75:
                    p = people.pop()
                    name, phone = p.name, p.phone
                else:
                    name, phone = _name(rng), _mobile(rng)
                companions = 0 if rng.random() < 0.75 else 1
                at = opened + (signups_until - opened) * rng.random()
                result = svc.registration_signup(activity=activity, name=name, phone=phone,
                                                 companions=companions, now=at)  # fmt: skip
                if result.created:
                    registrations.append(result.registration)
                    seats += 1 + companions
            if by != manager:  # area staff put their volunteers on shifts
                team = Volunteer.objects.visible_to(by).filter(team__parent=community.organization)
                helpers = list(team.order_by("-is_coordinator", "pk")[:3])
                if outcome == "published" or rng.random() < 0.9:
                    tasks = template.tasks if template else ("签到", "秩序维护")
                    for v in helpers:
                        svc.shift_assign(
                            activity=activity, by=by, volunteer=v,
                            start_time=dt.time(max(start.hour - 1, 7), start.minute),
                            end_time=dt.time(min(end.hour + 1, 23), end.minute),
                            task=rng.choice(tasks),
                        )  # fmt: skip
            if outcome == "cancelled":
                svc.activity_cancel(activity=activity, by=by, reason=CANCEL_REASONS[0],
                                    now=starts_at - dt.timedelta(days=1))  # fmt: skip
                continue
            if outcome == "published":
                continue
            # The day itself: codes at the desk, the door's QR code, walk-ins.
            for i, r in enumerate(registrations):
                if rng.random() < 0.12:
                    continue  # did not come
                when_in = starts_at + dt.timedelta(minutes=int(rng.random() * 30) - 15)
                if i % 3 == 0:
                    svc.door_check_in(activity=activity, phone=r.phone, now=when_in)
                else:
                    svc.registration_check_in(activity=activity, code=r.code, by=by, now=when_in)
            for _ in range(1 + int(rng.random() * 3)):
                if activity.capacity - Activity.objects.get(pk=activity.pk).seats_taken < 1:
                    break
                name, phone = (
                    (people[-1].name, people.pop().phone) if people else (_name(rng), _mobile(rng))
                )
                svc.walk_in_add(activity=activity, by=by, name=name, phone=phone,
                                now=starts_at + dt.timedelta(minutes=int(rng.random() * 20)))  # fmt: skip
            done = self.at(day, end.hour, end.minute) + dt.timedelta(minutes=40)
            activity = svc.activity_complete(activity=activity, by=by, now=done)
            for r in Registration.objects.filter(
                activity=activity, checked_in_at__isnull=False
            ).order_by("pk"):
                if rng.random() < 0.45:
                    rating = _pick(rng, RATING_CUM) + 1
                    svc.feedback_submit(
                        registration=r, rating=rating,
                        comment=rng.choice(ACTIVITY_COMMENTS[rating]) if rng.random() < 0.4 else "",
                        now=min(done + dt.timedelta(hours=1 + int(rng.random() * 30)), self.now),
                    )  # fmt: skip
