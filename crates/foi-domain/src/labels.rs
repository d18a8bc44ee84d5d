//! The words a disclosure office's screens and ledgers use for the service's terms (see the console
//! glossary): stages, channels and applicant kinds as the 2021 table writes them, how a case closed.

use crate::events::Closing;
use crate::intake::{ApplicantKind, Channel, DeliveryForm};
use crate::workflow::CaseState;

pub fn state(state: CaseState) -> &'static str {
    match state {
        CaseState::Received => "已收到",
        CaseState::Registered => "已登记",
        CaseState::UnderReview => "办理中",
        CaseState::ReplyDrafted => "待审核",
        CaseState::ReplyApproved => "待送达",
        CaseState::Replied => "已答复",
        CaseState::Archived => "已归档",
        CaseState::AwaitingCorrection => "待补正",
        CaseState::Consulting => "征求意见中",
        CaseState::AwaitingFee => "待缴费",
        CaseState::Withdrawn => "申请人撤回",
        CaseState::DeemedAbandoned => "视为放弃",
        CaseState::NotProcessed => "不予处理",
        CaseState::Transferred => "已转办",
        CaseState::Voided => "重复登记已作废",
    }
}

pub fn channel(channel: Channel) -> &'static str {
    match channel {
        Channel::InPerson => "当面",
        Channel::Letter => "信函",
        Channel::Fax => "传真",
        Channel::Web => "网络",
        Channel::Email => "电子邮件",
    }
}

pub fn delivery_form(form: DeliveryForm) -> &'static str {
    match form {
        DeliveryForm::Paper => "纸质",
        DeliveryForm::Electronic => "电子数据",
        DeliveryForm::Email => "电子邮件",
        DeliveryForm::Inspection => "查阅、抄录",
        DeliveryForm::Other => "其他",
    }
}

pub fn applicant_kind(kind: ApplicantKind) -> &'static str {
    match kind {
        ApplicantKind::NaturalPerson => "自然人",
        ApplicantKind::Business => "商业企业",
        ApplicantKind::ResearchInstitution => "科研机构",
        ApplicantKind::PublicInterestOrg => "社会公益组织",
        ApplicantKind::LegalServices => "法律服务机构",
        ApplicantKind::OtherOrg => "其他",
    }
}

pub fn closing(closing: Closing) -> &'static str {
    match closing {
        Closing::OnTime => "按时办结",
        Closing::Extended => "延期办结",
        Closing::LateReply => "逾期答复",
        Closing::DeemedAbandoned => "视为放弃",
        Closing::Withdrawn => "申请人撤回",
    }
}

/// Where an open case stands against its final deadline: 剩余 N 个工作日, 今日到期, 已超期 N 个工作日
/// (`working_days_left` negative when past).
pub fn days_left(working_days_left: i64) -> String {
    match working_days_left {
        0 => "今日到期".to_owned(),
        n if n > 0 => format!("剩余{n}个工作日"),
        n => format!("已超期{}个工作日", -n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_has_a_label_and_no_two_states_share_one() {
        let mut seen = std::collections::BTreeSet::new();
        for &s in CaseState::ALL {
            assert!(seen.insert(state(s)), "{s}");
        }
        assert!(Channel::ALL.iter().all(|&c| !channel(c).is_empty()));
        assert!(ApplicantKind::ALL.iter().all(|&k| !applicant_kind(k).is_empty()));
        assert!(Closing::ALL.iter().all(|&c| !closing(c).is_empty()));
        assert_eq!(days_left(3), "剩余3个工作日");
        assert_eq!(days_left(0), "今日到期");
        assert_eq!(days_left(-2), "已超期2个工作日");
    }
}
