//! The console's words in Chinese (the default) and English: one table, so a page never mixes a
//! missing translation with the other language. Stage, channel and applicant labels in Chinese come
//! from `domain::labels` (the words of the 2021 table and the console glossary).

use actix_web::HttpRequest;

use crate::domain::intake::{ApplicantKind, Channel};
use crate::domain::workflow::{Action, CaseState};

/// The cookie that keeps a user's choice of language.
pub const LANG_COOKIE: &str = "foi_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The user's choice (cookie), else the browser's first preference between the two, else Chinese.
    pub fn of(req: &HttpRequest) -> Lang {
        if let Some(chosen) = req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
            return chosen;
        }
        let accept = req.headers().get("accept-language").and_then(|v| v.to_str().ok()).unwrap_or("");
        for tag in accept.split(',') {
            let tag = tag.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if tag.starts_with("zh") {
                return Lang::Zh;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Zh
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The HTML `lang` attribute.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

/// The translator a template holds.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text for `key` (the key itself if the table lacks it: a test checks every template's keys).
    pub fn t(&self, key: &str) -> &'static str {
        match WORDS.iter().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => match self.0 {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => "?",
        }
    }

    pub fn lang(&self) -> Lang {
        self.0
    }

    /// A role as the office names it (登记人, 承办人, 负责人, ...).
    pub fn role(&self, role: crate::domain::role::Role) -> &'static str {
        use crate::domain::role::Role;
        match (self.0, role) {
            (Lang::Zh, Role::Clerk) => "登记人",
            (Lang::Zh, Role::Handler) => "承办人",
            (Lang::Zh, Role::Approver) => "负责人",
            (Lang::Zh, Role::Statistician) => "统计人员",
            (Lang::Zh, Role::Admin) => "管理员",
            (Lang::En, Role::Clerk) => "clerk",
            (Lang::En, Role::Handler) => "handler",
            (Lang::En, Role::Approver) => "approver",
            (Lang::En, Role::Statistician) => "statistician",
            (Lang::En, Role::Admin) => "administrator",
        }
    }

    pub fn state(&self, state: &CaseState) -> String {
        match self.0 {
            Lang::Zh => crate::domain::labels::state(*state).to_owned(),
            Lang::En => words(state),
        }
    }

    pub fn channel(&self, channel: &Channel) -> String {
        match self.0 {
            Lang::Zh => crate::domain::labels::channel(*channel).to_owned(),
            Lang::En => words(channel),
        }
    }

    pub fn applicant_kind(&self, kind: &ApplicantKind) -> String {
        match self.0 {
            Lang::Zh => crate::domain::labels::applicant_kind(*kind).to_owned(),
            Lang::En => words(kind),
        }
    }

    /// An action's name (the console glossary's labels in Chinese).
    pub fn action(&self, action: &Action) -> String {
        let code = serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        // Clock events are actions too, named as the timeline names them.
        match (self.0, ACTIONS.iter().chain(EVENTS).find(|(c, _)| *c == code)) {
            (Lang::Zh, Some((_, zh))) => (*zh).to_owned(),
            _ => code.replace('_', " "),
        }
    }

    /// A step of a deadline's explanation: the office's words in Chinese (by the step's `kind`), the
    /// domain's sentence in English.
    pub fn step(&self, step: &crate::domain::deadline::Step) -> String {
        match (self.0, STEPS.iter().find(|(k, _)| *k == step.kind)) {
            (Lang::Zh, Some((_, zh))) => (*zh).to_owned(),
            _ => step.detail.clone(),
        }
    }

    /// 剩余 N 个工作日 / 今日到期 / 已超期 N 个工作日 (negative: past).
    pub fn days_left(&self, left: &i64) -> String {
        let left = *left;
        match (self.0, left) {
            (Lang::Zh, _) => crate::domain::labels::days_left(left),
            (Lang::En, 0) => "due today".to_owned(),
            (Lang::En, 1) => "1 working day left".to_owned(),
            (Lang::En, n) if n > 0 => format!("{n} working days left"),
            (Lang::En, -1) => "1 working day overdue".to_owned(),
            (Lang::En, n) => format!("{} working days overdue", -n),
        }
    }

    /// A date with its weekday: 2026-11-27（周五） / 2026-11-27 (Fri).
    pub fn date(&self, date: &chrono::NaiveDate) -> String {
        use chrono::Datelike;
        let n = date.weekday().num_days_from_monday() as usize;
        match self.0 {
            Lang::Zh => format!("{date}（{}）", ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][n]),
            Lang::En => format!("{date} ({})", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][n]),
        }
    }
}

/// The label of a code of one of the API's small vocabularies (`group`: method, delivery, party,
/// appeal_kind, appeal_outcome, fee_method): the office's words in Chinese, the code as words in
/// English.
impl Tr {
    pub fn code(&self, group: &str, code: &str) -> String {
        match (self.0, CODES.iter().find(|(g, c, _)| *g == group && *c == code)) {
            (Lang::Zh, Some((_, _, zh))) => (*zh).to_owned(),
            _ => code.replace('_', " "),
        }
    }
}

/// (group, code, Chinese).
const CODES: &[(&str, &str, &str)] = &[
    ("method", "in_person", "直接送达"),
    ("method", "post", "邮寄送达"),
    ("method", "email", "电子邮件送达"),
    ("method", "online", "网上平台送达"),
    ("method", "fax", "传真送达"),
    ("method", "entrusted", "委托送达"),
    ("delivery", "paper", "纸质"),
    ("delivery", "electronic", "电子数据"),
    ("delivery", "email", "电子邮件"),
    ("delivery", "inspection", "查阅"),
    ("delivery", "other", "其他"),
    ("party", "third_party", "第三方"),
    ("party", "other_agency", "其他机关"),
    ("appeal_kind", "reconsideration", "行政复议"),
    ("appeal_kind", "litigation_direct", "行政诉讼（未经复议直接起诉）"),
    ("appeal_kind", "litigation_after_reconsideration", "行政诉讼（复议后起诉）"),
    ("appeal_kind", "complaint", "举报投诉"),
    ("appeal_outcome", "upheld", "结果维持"),
    ("appeal_outcome", "corrected", "结果纠正"),
    ("appeal_outcome", "other", "其他结果"),
    ("appeal_outcome", "pending", "尚未审结"),
    ("fee_method", "per_request", "按件计收（2020年办法）"),
    ("fee_method", "per_page", "按量计收（2020年办法）"),
    ("fee_method", "cost", "成本费用（2008年规定：检索、复制、邮寄）"),
];

/// What an event of the timeline was: a workflow or clock event's `type`, or the record's kind.
impl Tr {
    pub fn event(&self, code: &str) -> String {
        match (self.0, EVENTS.iter().chain(ACTIONS).find(|(c, _)| *c == code)) {
            (Lang::Zh, Some((_, zh))) => (*zh).to_owned(),
            _ => code.replace('_', " "),
        }
    }
}

/// Steps of a deadline's explanation, by kind (`domain::deadline`).
const STEPS: &[(&str, &str)] = &[
    ("received", "收到申请：自次日起计算答复期限"),
    ("new_reply_ordered", "复议或诉讼决定纠正，责令重新答复"),
    ("correction_requested", "告知补正：停止计时"),
    ("restarted", "收到补正：答复期限重新起算"),
    ("deemed_abandoned", "视为放弃申请：计时结束"),
    ("consultation_not_pausing", "征求意见：按所适用的规定不停止计时"),
    ("paused", "暂停计时（征求意见或缴费通知）"),
    ("resumed", "恢复计时"),
    ("consultation_answered", "收到第三方意见"),
    ("extension_overridden", "延期答复经负责人越权记录：不改变答复期限"),
    ("extended", "延期答复：答复期限延长"),
    ("delay_set", "确定延迟答复期限（第三十五条）"),
    ("fee_notice", "发出缴费通知：按所适用的规定不停止计时"),
    ("fee_paid", "已缴费"),
    ("replied", "已送达答复（邮寄以交邮之日为准）：计时结束"),
    ("withdrawn", "申请人撤回申请：计时结束"),
    ("maximum_extension", "按最长延期计算"),
];

/// Timeline labels of events (workflow events are named for what happened, not the action).
const EVENTS: &[(&str, &str)] = &[
    ("attached", "上传附件"),
    ("document_issued", "生成文书"),
    ("received", "收到申请"),
    ("registered", "编号登记"),
    ("deadline_set", "确定答复期限"),
    ("handler_assigned", "分办"),
    ("reply_drafted", "拟办答复"),
    ("draft_returned", "退回修改"),
    ("reply_approved", "审核通过"),
    ("served", "送达"),
    ("answered_on_the_spot", "当场答复"),
    ("withdrawn", "申请人撤回"),
    ("not_processed", "不予处理"),
    ("transferred", "转办"),
    ("archived", "归档"),
    ("fee_assessed", "核定信息处理费"),
    ("appeal_filed", "登记复议诉讼"),
    ("appeal_decided", "登记复议诉讼结果"),
    ("new_reply_ordered", "责令重新答复"),
    ("reply_reissued", "重新答复"),
    ("registration_amended", "更正登记信息"),
    ("voided", "作废重复登记"),
    ("correction_received", "收到补正"),
    ("correction_lapsed", "补正逾期"),
    ("consultation_answered", "收到第三方意见"),
    ("delay_set", "确定延迟答复期限（第三十五条）"),
    ("fee_notice_sent", "缴费通知"),
    ("fee_paid", "已缴费"),
    ("fee_lapsed", "逾期未缴费"),
];

/// A snake_case serde name as English words.
fn words<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
}

/// Action labels of the console glossary.
const ACTIONS: &[(&str, &str)] = &[
    ("assign", "分办"),
    ("draft_reply", "拟办答复"),
    ("return_draft", "退回修改"),
    ("approve_reply", "审核通过"),
    ("serve", "送达"),
    ("answer_on_the_spot", "当场答复"),
    ("withdraw", "申请人撤回"),
    ("not_process", "不予处理"),
    ("transfer", "转办"),
    ("archive", "归档"),
    ("assess_fee", "核定信息处理费"),
    ("file_appeal", "登记复议诉讼"),
    ("decide_appeal", "登记复议诉讼结果"),
    ("reopen_for_new_reply", "重新答复"),
    ("amend_registration", "更正登记信息"),
    ("void_duplicate", "作废重复登记"),
    ("extension_approved", "延期答复"),
    ("correction_notice_sent", "告知补正"),
    ("consultation_sent", "征求意见"),
];

/// Whether the table has `key`.
pub fn is_word(key: &str) -> bool {
    WORDS.iter().any(|(k, _, _)| *k == key)
}

/// (key, Chinese, English).
const WORDS: &[(&str, &str, &str)] = &[
    ("papers", "文书与附件", "Letters and papers"),
    ("ledger_import", "导入原有台账", "Import an existing ledger"),
    (
        "ledger_import_hint",
        "按模板整理原有台账（Excel或WPS），用命令 foi-tracker import cases 文件 --agency 机关代码 --dry-run 先检查，再去掉 --dry-run 导入；管理员也可通过接口上传。",
        "Arrange the existing ledger (Excel or WPS) like the template, check it with foi-tracker import cases FILE --agency CODE --dry-run, then import it without --dry-run; administrators can also upload it over the API.",
    ),
    ("import_template", "下载台账导入模板", "Download the import template"),
    ("documents", "文书", "Letters"),
    ("no_documents", "尚未生成文书。", "No letter yet."),
    ("doc_number", "文号", "Number"),
    ("document_kind", "文书种类", "Kind of letter"),
    ("doc_version", "版本", "Version"),
    ("issued_on", "成文日期", "Dated"),
    ("download_docx", "下载（DOCX）", "Download (DOCX)"),
    ("print_view", "打印", "Print"),
    ("generate_document", "生成文书", "Generate a letter"),
    (
        "generate_hint",
        "文书内容取自案件记录；下列各项只填所选文书需要的：补正告知书填需要补正的事项和补正期限，征求意见函填第三方，答复书填答复的具体内容（部分公开、已主动公开、其他处理必填）。内容有变化时生成新版本，文号不变。",
        "The letter's facts come from the case; fill in only what the chosen letter needs: the matters and the date for a correction, the third party for a consultation, the substance for a reply (required for partial disclosure, published information and other endings). A changed letter is a new version with the same number.",
    ),
    ("p_matters", "需要补正的事项", "Matters to correct"),
    ("p_respond_by", "补正期限", "Correct by"),
    ("p_third_party", "被征求意见的第三方", "Third party consulted"),
    ("p_content", "答复的具体内容", "Substance of the reply"),
    ("p_other_agency", "负责公开的机关及联系方式", "Responsible agency and contact"),
    ("attachments", "附件", "Attachments"),
    ("no_attachments", "尚无附件。", "No attachment yet."),
    ("attachment_kind", "附件类别", "Kind of paper"),
    ("file_name", "文件名", "File name"),
    ("file_size", "大小", "Size"),
    ("evidence_of", "作为凭证", "Evidence of"),
    ("note", "备注", "Note"),
    ("file", "文件", "File"),
    ("download", "下载", "Download"),
    ("upload_attachment", "上传附件", "Attach a paper"),
    (
        "upload_hint",
        "可上传来信原件、信封、传真件、网络申请表、送达稿、邮寄凭证等扫描件（PDF、图片、Word、Excel、OFD）。类型按文件内容识别，大小上限见系统设置（默认 20 MB）。信封可作为收到申请日期的凭证，邮寄凭证可作为送达日期的凭证。",
        "Attach scans of the letter, envelope, fax, web form, the reply as served, the postal receipt (PDF, images, Word, Excel, OFD). The type is read from the content; the size limit is set by the office (20 MB by default). An envelope can be the evidence of the receipt date, a postal receipt that of the service.",
    ),
    ("back_to_case", "返回案件", "Back to the case"),
    ("print_hint", "按 Ctrl+P 打印（A4，公文格式）。", "Press Ctrl+P to print (A4, official layout)."),
    ("unchanged", "文书内容未变化，仍为原版本。", "The letter has not changed: it is the existing version."),
    ("app_name", "政府信息公开申请办理系统", "FOI request tracker"),
    ("sign_in", "登录", "Sign in"),
    ("sign_out", "退出", "Sign out"),
    ("login_name", "用户名", "Login name"),
    ("password", "密码", "Password"),
    (
        "session_ended",
        "登录已过期，请重新登录。您填写的内容已保留。",
        "Your session ended. Sign in again; what you typed is kept.",
    ),
    ("wrong_credentials", "用户名或密码错误。", "The login name or the password is wrong."),
    ("nav_queue", "待办", "To do"),
    ("nav_register", "登记申请", "Register"),
    ("nav_search", "查询", "Search"),
    ("nav_statistics", "统计", "Statistics"),
    ("overdue_count", "已超期", "Overdue"),
    ("queue_handler", "我的待办：按答复期限排序", "My open cases, nearest deadline first"),
    ("queue_approver", "待审核的答复", "Drafts awaiting approval"),
    ("queue_clerk", "今日登记", "Registered today"),
    ("queue_overdue", "本机关超期案件", "Overdue cases"),
    ("queue_empty", "暂无待办事项。", "Nothing waiting."),
    ("total", "共", "Total"),
    ("items", "条", "cases"),
    ("tracking_number", "受理编号", "Tracking number"),
    ("applicant", "申请人", "Applicant"),
    ("description", "申请内容", "Request"),
    ("state", "办理状态", "Stage"),
    ("received_on", "收到申请日", "Received"),
    ("final_due_on", "答复期限", "Reply due"),
    ("deadline", "期限", "Deadline"),
    ("stopped", "暂停计时", "Clock stopped"),
    ("waits_correction", "等待补正", "awaiting correction"),
    ("waits_consultation", "征求第三方意见", "consulting a third party"),
    ("waits_fee", "等待缴费", "awaiting the fee"),
    ("closed", "已办结", "Closed"),
    ("channel", "申请方式", "Channel"),
    ("applicant_kind", "申请人类型", "Applicant type"),
    ("handler", "承办人", "Handler"),
    ("agency", "机关", "Agency"),
    ("topic", "类别", "Topic"),
    ("summary", "基本情况", "Summary"),
    ("timeline", "办理过程", "Timeline"),
    ("deadline_explained", "期限计算", "How the deadline was counted"),
    ("counting_from", "自次日起计算", "counting starts the day after"),
    ("skipped_days", "不计入的日子", "Days not counted"),
    ("make_up_days", "调休上班日（计入）", "Make-up working days (counted)"),
    ("actions", "可办理事项", "What you can do"),
    ("no_actions", "您当前无可办理的事项。", "Nothing you can do on this case now."),
    ("appeals", "复议诉讼", "Appeals"),
    ("fee", "信息处理费", "Fee"),
    ("outcome", "答复结果", "Outcome"),
    ("draft_outcome", "拟答复结果", "Drafted outcome"),
    ("report_row", "年报统计行", "Annual report row"),
    ("comment", "办理意见", "Comment"),
    ("submit", "提交", "Submit"),
    ("confirm", "确认办理", "Confirm"),
    ("on_date", "日期", "Date"),
    ("service_method", "送达方式", "Service method"),
    ("handler_id", "承办人", "Handler"),
    ("extension_days", "延长工作日数", "Working days of extension"),
    ("reason", "理由", "Reason"),
    ("respond_by", "补正期限", "Correct by"),
    ("party", "征求意见对象", "Consulted"),
    ("until", "延至", "Until"),
    ("amount_fen", "金额（分）", "Amount (fen)"),
    ("receipt_number", "收据号", "Receipt number"),
    ("ground", "不予处理理由", "Ground"),
    ("to_agency", "转至机关代码", "To agency (code)"),
    ("duplicate_of", "重复的案件（受理编号或ID）", "Duplicate of (number or id)"),
    (
        "conflict",
        "有人刚刚修改了这个案件，页面已重新载入，请核对后再办理。",
        "Someone changed this case meanwhile; the page shows it as it is now. Check and try again.",
    ),
    ("done", "已办理。", "Done."),
    ("register_title", "登记政府信息公开申请", "Register a request"),
    ("arrived_at", "收到时间", "Arrived at"),
    ("receipt_preview", "收到申请之日与答复期限", "Receipt date and reply deadline"),
    ("applicant_block", "申请人信息", "Applicant"),
    ("name", "姓名/名称", "Name"),
    ("id_number", "证件号码", "ID number"),
    ("phone", "联系电话", "Phone"),
    ("email", "电子邮箱", "E-mail"),
    ("address", "通讯地址", "Address"),
    ("delivery_form", "获取信息方式", "Delivery"),
    ("register", "登记", "Register"),
    ("fix_errors", "请修改标出的内容。", "Please correct the fields marked below."),
    ("search_title", "案件查询", "Find cases"),
    ("search_text", "关键词", "Words"),
    ("search", "查询", "Search"),
    ("open_only", "未办结", "Open"),
    ("closed_only", "已办结", "Closed"),
    ("all", "全部", "All"),
    ("export_xlsx", "导出Excel", "Export to Excel"),
    ("next_page", "下一页", "Next page"),
    ("statistics_title", "政府信息公开工作年度报告统计", "Annual report statistics"),
    ("year", "年度", "Year"),
    ("format", "表式", "Format"),
    ("subtree", "含下级机关", "Include sub-agencies"),
    ("show", "查看", "Show"),
    ("checks", "勾稽关系核对", "Cross-checks"),
    ("check_holds", "相符", "holds"),
    ("check_fails", "不符", "fails"),
    ("download_csv", "下载CSV", "Download CSV"),
    ("download_xlsx", "下载Excel", "Download XLSX"),
    ("error_title", "无法完成", "That did not work"),
    ("back_home", "返回待办", "Back to my work"),
    ("language", "English", "中文"),
    ("skip_to_main", "跳到正文", "Skip to main content"),
    ("personal_data_masked", "（个人信息已隐去）", "(personal data masked)"),
    ("actor", "办理人", "By"),
    ("event", "事项", "Event"),
    ("recorded_at", "记录时间", "Recorded"),
    ("yes", "是", "yes"),
    ("none", "无", "none"),
    ("nav_admin", "管理", "Administration"),
    ("admin_users", "用户管理", "Users"),
    ("admin_agencies", "机关与类别", "Agencies and topics"),
    ("admin_calendar", "工作日历", "Working-day calendar"),
    ("create_user", "新增用户", "Add a user"),
    ("role", "角色", "Role"),
    ("active", "状态", "Status"),
    ("active_yes", "在用", "active"),
    ("deactivated", "已停用", "deactivated"),
    ("deactivate", "停用", "Deactivate"),
    ("reactivate", "启用", "Reactivate"),
    ("reset_password", "重置密码", "Reset password"),
    ("new_password", "新密码", "New password"),
    ("set_role", "调整角色", "Change role"),
    ("tokens", "API令牌", "API tokens"),
    ("token_name", "令牌名称", "Token name"),
    ("token_prefix", "前缀", "Prefix"),
    ("last_used", "最近使用", "Last used"),
    ("create_token", "新增令牌", "New token"),
    ("revoke", "撤销", "Revoke"),
    ("revoked", "已撤销", "revoked"),
    ("token_once", "以下令牌只显示这一次，请立即复制保存。", "This token is shown only this once: copy it now."),
    ("back", "返回", "Back"),
    ("add_agency", "新增机关", "Add an agency"),
    ("code", "代码", "Code"),
    ("parent", "上级机关", "Parent agency"),
    ("topics", "类别", "Topics"),
    ("add_topic", "新增或修改类别", "Add or relabel a topic"),
    ("label", "名称", "Label"),
    ("national", "全国", "National"),
    ("notice_loaded", "本年度国务院放假通知已导入。", "This year's State Council notice is loaded."),
    (
        "notice_missing",
        "本年度放假通知尚未导入：节假日按临时规则推定，期限为暂定。",
        "This year's notice is not loaded: holidays are assumed and deadlines provisional.",
    ),
    ("legend_holiday", "节假日", "holiday"),
    ("legend_makeup", "调休上班日", "make-up working day"),
    ("legend_weekend", "周末", "weekend"),
    ("legend_provisional", "推定节假日", "assumed holiday"),
    ("set_day", "设置日期", "Set a day"),
    ("clear_day", "删除该日设置", "Clear the day"),
    ("day_off", "放假", "day off"),
    ("working_day", "上班", "working day"),
    ("import_notice", "导入放假通知", "Import a notice"),
    ("notice_json", "通知（holiday-cn 格式 JSON）", "Notice (holiday-cn JSON)"),
    ("appeal_kind", "类型", "Kind"),
    ("appeal_number", "复议诉讼序号", "Appeal number"),
    ("appeal_outcome", "结果", "Outcome"),
    ("appeal_reference", "文书编号", "Docket or decision number"),
    ("filed_on", "提起日期", "Filed on"),
    ("decided_on", "决定（判决）日期", "Decided on"),
    ("decision_effective_on", "决定送达本机关之日", "Decision effective for the office on"),
    ("new_reply_period", "重新答复期限", "Period for the new reply"),
    ("period_working_days", "自某日起若干工作日", "Working days from a day"),
    ("period_date", "指定日期前", "By a date"),
    ("period_from", "起算日", "Counting from"),
    ("period_days", "工作日数", "Working days"),
    ("period_due_on", "指定日期", "Due on"),
    ("hint_new_reply", "按决定书：填写起算日和工作日数，或填写指定日期。", "As the decision says: a day and a number of working days, or a date."),
    ("fee_method", "计费方式", "Basis"),
    ("pages", "页数", "Pages"),
    ("search_items", "检索件数", "Items searched"),
    ("postage_fen", "邮寄费（分）", "Postage (fen)"),
    ("waived_fen", "减免金额（分）", "Waived (fen)"),
    ("waiver_reason", "减免理由", "Reason for the waiver"),
    ("hint_fee", "按件计收无需填写页数；按量计收填写页数；2008年成本费用填写检索件数、页数和邮寄费。", "Per request needs nothing more; per page needs the pages; the 2008 cost fees need items, pages and postage."),
    ("applicant_notified_on", "告知申请人日期", "Applicant told on"),
    ("repeat_of", "重复申请的原案件（受理编号）", "Repeats case (tracking number)"),
    ("earlier_reference", "或：使用本系统前的原申请编号/文号", "Or: the earlier request's number before this system"),
    ("earlier_answered_on", "原申请答复日期", "The earlier request was answered on"),
    ("hint_repeat", "理由为重复申请时，须填写原案件的受理编号，或本系统启用前原申请的编号和答复日期。", "For a repeat request, name the answered case, or the earlier request's number and answer date."),
    ("receipt_basis", "收到申请之日的依据", "Basis of the receipt date"),
    ("receipt_evidence", "依据说明（签收单号等）", "Evidence (signed receipt number, ...)"),
    ("form_refilled", "已恢复您在登录过期前填写的内容，请核对后确认办理。", "What you typed before the session ended is back: check it and confirm."),
    ("lock_year", "锁定年度数据", "Lock the year"),
    ("locked", "已锁定", "Locked"),
    ("lock_hint", "年报发布后锁定：该年度的报告数字按锁定时固定（含本表式及其他表式），锁定不可撤销；此后会改变该年度数字的办理将被拒绝，只有管理员说明理由后方可更正，更正记录附于锁定之下。只能锁定已结束的年度。", "Lock once the report is published: the year's numbers stay as they are now, in every format, and the lock is never lifted. Changes that would alter them are refused unless an administrator gives a reason; such corrections are listed under the lock. Only an ended year can be locked."),
    ("locked_by", "锁定人", "Locked by"),
    ("regime", "适用法规", "Regime"),
    ("corrections", "锁定后更正", "Corrections since"),
    ("live_note", "以下为按现有数据重新计算的数字，不是锁定时发布的数字。", "These numbers are recomputed now, not the ones published when the year was locked."),
    ("published_numbers", "查看发布的数字", "See the published numbers"),
    ("live_numbers", "查看按现有数据重新计算的数字", "See the numbers recomputed now"),
    ("lock_done", "已锁定该年度报告。", "The year's report is locked."),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `tr.t("…")` in the templates names a row of the table, and no key is there twice.
    #[test]
    fn every_template_key_is_translated() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates/console");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for piece in text.split("tr.t(\"").skip(1) {
                let key = &piece[..piece.find('"').unwrap()];
                assert!(WORDS.iter().any(|(k, _, _)| *k == key), "no words for `{key}`");
                seen += 1;
            }
        }
        assert!(seen > 20);
        let mut keys: Vec<&str> = WORDS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "a key appears twice");
    }

    #[test]
    fn every_action_has_a_chinese_name() {
        let zh = Tr(Lang::Zh);
        for action in Action::ALL {
            let name = zh.action(action);
            assert!(!name.is_ascii(), "{action:?} is named `{name}`");
        }
    }

    #[test]
    fn languages_come_from_the_cookie_then_the_browser() {
        use actix_web::test::TestRequest;
        let req = TestRequest::default().insert_header(("accept-language", "en-GB,en;q=0.9")).to_http_request();
        assert_eq!(Lang::of(&req), Lang::En);
        let req =
            TestRequest::default().insert_header(("accept-language", "fr, zh-CN;q=0.8, en;q=0.5")).to_http_request();
        assert_eq!(Lang::of(&req), Lang::Zh);
        assert_eq!(Lang::of(&TestRequest::default().to_http_request()), Lang::Zh);
        let req = TestRequest::default()
            .insert_header(("accept-language", "zh-CN"))
            .cookie(actix_web::cookie::Cookie::new(LANG_COOKIE, "en"))
            .to_http_request();
        assert_eq!(Lang::of(&req), Lang::En);
        assert_eq!(Tr(Lang::En).days_left(&-3), "3 working days overdue");
        assert_eq!(Tr(Lang::Zh).date(&chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()), "2026-11-27（周五）");
    }
}
