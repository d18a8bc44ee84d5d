//! Fees, in integer fen (1 元 = 100 fen).
//!
//! - 2008 regime (Order 492 Art. 27): cost fees for search (检索), copying (复制) and postage (邮寄)
//!   only, at the rates the province sets (configured: `fees.search_fen_per_item`,
//!   `fees.copy_fen_per_page`); postage at cost. Art. 28: waived for applicants in financial
//!   hardship on the office head's approval.
//! - 2019 regime (Order 711 Art. 42; 国办函〔2020〕109号): the information-processing fee, either per
//!   request (按件) or per page (按量), never both, with rising rates (超额累进): per request, the
//!   applicant's requests to the agency in one calendar month: 1-10 free, 11-30 100 元 each, then
//!   100 元 more for each further block of 10 (31-40 200 元, 41-50 300 元, ...); per page: 1-30 free,
//!   31-100 10 元, 101-200 20 元, from 201 40 元 a page.

use serde::{Deserialize, Serialize};

string_enum! {
    /// Which fee law a regime applies.
    FeeScheme {
        /// Order 492 Art. 27: search, copying and postage at cost.
        Cost2008 => "cost_2008",
        /// Order 711 Art. 42 and 国办函〔2020〕109号: the information-processing fee.
        Processing2020 => "processing_2020",
    }
}

/// What the fee is charged on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum FeeBasis {
    /// 2008 cost fees: items searched, pages copied, postage paid.
    Cost {
        #[serde(default)]
        search_items: u32,
        #[serde(default)]
        pages: u32,
        #[serde(default)]
        postage_fen: i64,
    },
    /// 2020 按件: the tier follows the applicant's number of requests to the agency that month.
    PerRequest,
    /// 2020 按量: pages (paper, email or copied electronic data).
    PerPage { pages: u32 },
}

/// The configured 2008 cost rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostRates {
    pub search_fen_per_item: i64,
    pub copy_fen_per_page: i64,
}

impl Default for CostRates {
    /// Fujian's published rates: search 5 元 a request, A4 copies 0.2 元 a page.
    fn default() -> Self {
        CostRates { search_fen_per_item: 500, copy_fen_per_page: 20 }
    }
}

/// One line of a fee computation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeLine {
    pub item: String,
    pub quantity: i64,
    pub unit_fen: i64,
    pub amount_fen: i64,
}

/// A computed fee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeAssessment {
    pub basis: FeeBasis,
    /// For a per-request fee: this request's number among the applicant's requests that month.
    pub request_number_in_month: Option<u32>,
    pub lines: Vec<FeeLine>,
    pub total_fen: i64,
    /// The part waived (减免), with the office head's approval.
    pub waived_fen: i64,
    /// What the applicant is asked to pay: total minus waived.
    pub charged_fen: i64,
    pub waiver_reason: Option<String>,
    /// The day the fee (and any waiver) was decided; a waiver counts in that year's figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessed_on: Option<chrono::NaiveDate>,
}

/// A fee as paid: the `fee_paid` clock event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeePayment {
    pub on: chrono::NaiveDate,
    pub amount_fen: i64,
    /// The receipt (票据) number.
    pub receipt_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    #[error("the {scheme} fee scheme does not charge by `{method}`")]
    WrongScheme { scheme: FeeScheme, method: &'static str },
    #[error("postage must be between 0 and 1,000,000 fen")]
    BadPostage,
    #[error("the waived amount must be between 0 and the total ({total} fen)")]
    BadWaiver { total: i64 },
    #[error("a waiver needs a reason")]
    WaiverWithoutReason,
    #[error("at most 1,000,000 pages or items")]
    TooMany,
}

impl FeeBasis {
    pub fn method(&self) -> &'static str {
        match self {
            FeeBasis::Cost { .. } => "cost",
            FeeBasis::PerRequest => "per_request",
            FeeBasis::PerPage { .. } => "per_page",
        }
    }
}

const LIMIT: u32 = 1_000_000;

/// The 2020 per-request fee for the applicant's `n`th request in the month (n >= 1).
pub fn per_request_fen(n: u32) -> i64 {
    match n {
        0..=10 => 0,
        11..=30 => 10_000,
        _ => 10_000 * (2 + i64::from((n - 31) / 10)),
    }
}

/// The 2020 per-page fee lines for `pages` pages: each page priced by its band.
pub fn per_page_lines(pages: u32) -> Vec<FeeLine> {
    const BANDS: [(u32, u32, i64); 3] = [(31, 100, 1_000), (101, 200, 2_000), (201, u32::MAX, 4_000)];
    BANDS
        .iter()
        .filter(|(from, _, _)| pages >= *from)
        .map(|&(from, to, unit)| {
            let quantity = i64::from(pages.min(to) - from + 1);
            FeeLine {
                item: if to == u32::MAX { format!("pages {from}+") } else { format!("pages {from}-{to}") },
                quantity,
                unit_fen: unit,
                amount_fen: quantity * unit,
            }
        })
        .collect()
}

/// Computes a fee. `request_number_in_month` is the applicant's count of requests to the agency in
/// the receipt month up to and including this one (only read for a per-request fee).
pub fn assess(
    scheme: FeeScheme,
    rates: CostRates,
    basis: FeeBasis,
    request_number_in_month: u32,
    waived_fen: i64,
    waiver_reason: Option<String>,
) -> Result<FeeAssessment, FeeError> {
    let wrong = |method| FeeError::WrongScheme { scheme, method };
    let (lines, number) = match (&basis, scheme) {
        (FeeBasis::Cost { search_items, pages, postage_fen }, FeeScheme::Cost2008) => {
            if *search_items > LIMIT || *pages > LIMIT {
                return Err(FeeError::TooMany);
            }
            if !(0..=1_000_000).contains(postage_fen) {
                return Err(FeeError::BadPostage);
            }
            let mut lines = Vec::new();
            let mut line = |item: &str, quantity: i64, unit_fen: i64| {
                if quantity > 0 {
                    lines.push(FeeLine { item: item.into(), quantity, unit_fen, amount_fen: quantity * unit_fen });
                }
            };
            line("search", i64::from(*search_items), rates.search_fen_per_item);
            line("copying", i64::from(*pages), rates.copy_fen_per_page);
            line("postage", i64::from(*postage_fen > 0), *postage_fen);
            (lines, None)
        }
        (FeeBasis::PerRequest, FeeScheme::Processing2020) => {
            let n = request_number_in_month.max(1);
            let unit = per_request_fen(n);
            (
                vec![FeeLine {
                    item: format!("request {n} this month"),
                    quantity: 1,
                    unit_fen: unit,
                    amount_fen: unit,
                }],
                Some(n),
            )
        }
        (FeeBasis::PerPage { pages }, FeeScheme::Processing2020) => {
            if *pages > LIMIT {
                return Err(FeeError::TooMany);
            }
            (per_page_lines(*pages), None)
        }
        (basis, _) => return Err(wrong(basis.method())),
    };
    let total_fen: i64 = lines.iter().map(|l| l.amount_fen).sum();
    if !(0..=total_fen).contains(&waived_fen) {
        return Err(FeeError::BadWaiver { total: total_fen });
    }
    let waiver_reason = waiver_reason.filter(|r| !r.trim().is_empty());
    if waived_fen > 0 && waiver_reason.is_none() {
        return Err(FeeError::WaiverWithoutReason);
    }
    Ok(FeeAssessment {
        basis,
        request_number_in_month: number,
        lines,
        total_fen,
        waived_fen,
        charged_fen: total_fen - waived_fen,
        waiver_reason,
        assessed_on: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_request_tiers_follow_109() {
        let expected =
            [(1, 0), (10, 0), (11, 10_000), (30, 10_000), (31, 20_000), (40, 20_000), (41, 30_000), (51, 40_000)];
        for (n, fen) in expected {
            assert_eq!(per_request_fen(n), fen, "request {n}");
        }
    }

    #[test]
    fn per_page_bands_are_progressive() {
        let total = |p| per_page_lines(p).iter().map(|l| l.amount_fen).sum::<i64>();
        assert_eq!(total(30), 0);
        assert_eq!(total(31), 1_000);
        assert_eq!(total(100), 70 * 1_000);
        assert_eq!(total(101), 70 * 1_000 + 2_000);
        assert_eq!(total(200), 70 * 1_000 + 100 * 2_000);
        assert_eq!(total(250), 70 * 1_000 + 100 * 2_000 + 50 * 4_000);
    }

    #[test]
    fn cost_fees_use_the_configured_rates() {
        let basis = FeeBasis::Cost { search_items: 1, pages: 12, postage_fen: 1_200 };
        let a = assess(FeeScheme::Cost2008, CostRates::default(), basis, 0, 0, None).unwrap();
        assert_eq!(a.total_fen, 500 + 12 * 20 + 1_200);
        assert_eq!(a.charged_fen, a.total_fen);
        assert_eq!(a.lines.len(), 3);
    }

    #[test]
    fn a_waiver_needs_a_reason_and_cannot_exceed_the_total() {
        let basis = FeeBasis::PerPage { pages: 40 };
        let s = FeeScheme::Processing2020;
        let r = CostRates::default();
        assert_eq!(assess(s, r, basis.clone(), 0, 5_000, None), Err(FeeError::WaiverWithoutReason));
        assert_eq!(
            assess(s, r, basis.clone(), 0, 20_000, Some("低保".into())),
            Err(FeeError::BadWaiver { total: 10_000 })
        );
        let a = assess(s, r, basis, 0, 10_000, Some("低保户，负责人同意".into())).unwrap();
        assert_eq!((a.total_fen, a.waived_fen, a.charged_fen), (10_000, 10_000, 0));
    }

    #[test]
    fn each_scheme_charges_only_its_own_way() {
        let r = CostRates::default();
        let cost = FeeBasis::Cost { search_items: 1, pages: 0, postage_fen: 0 };
        assert!(matches!(assess(FeeScheme::Processing2020, r, cost, 1, 0, None), Err(FeeError::WrongScheme { .. })));
        assert!(matches!(
            assess(FeeScheme::Cost2008, r, FeeBasis::PerRequest, 1, 0, None),
            Err(FeeError::WrongScheme { .. })
        ));
        let a = assess(FeeScheme::Processing2020, r, FeeBasis::PerRequest, 12, 0, None).unwrap();
        assert_eq!((a.request_number_in_month, a.charged_fen), (Some(12), 10_000));
    }
}
