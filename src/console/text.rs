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
        match (self.0, ACTIONS.iter().find(|(c, _)| *c == code)) {
            (Lang::Zh, Some((_, zh))) => (*zh).to_owned(),
            _ => code.replace('_', " "),
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

/// What an event of the timeline was: a workflow or clock event's `type`, or the record's kind.
impl Tr {
    pub fn event(&self, code: &str) -> String {
        match (self.0, EVENTS.iter().chain(ACTIONS).find(|(c, _)| *c == code)) {
            (Lang::Zh, Some((_, zh))) => (*zh).to_owned(),
            _ => code.replace('_', " "),
        }
    }
}

/// Timeline labels of events (workflow events are named for what happened, not the action).
const EVENTS: &[(&str, &str)] = &[
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
    ("appeal_filed", "登记复议诉讼"),
    ("appeal_decided", "登记复议诉讼结果"),
    ("new_reply_ordered", "责令重新答复"),
    ("reply_reissued", "重新答复"),
    ("registration_amended", "更正登记信息"),
    ("voided", "作废重复登记"),
    ("correction_received", "收到补正"),
    ("correction_lapsed", "补正逾期"),
    ("consultation_answered", "收到第三方意见"),
    ("delay_set", "第三方意见延期"),
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

/// (key, Chinese, English).
const WORDS: &[(&str, &str, &str)] = &[
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
