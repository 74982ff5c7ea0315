//! Service reports for supervisors and the YOT admin (`/v1/admin/service-report`): what the
//! service did over a period, with small numbers withheld as in the survey reports.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{DistributionCell, ReportCell};

/// The period of a service report: whole UTC days, both ends included.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ServiceReportQuery {
    /// First day (`YYYY-MM-DD`, UTC).
    pub from: String,
    /// Last day (`YYYY-MM-DD`, UTC), at most 366 days after `from`.
    pub to: String,
}

/// How serious an escalation is (the moderation crate's severities an escalation can have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationSeverity {
    Low,
    Medium,
    High,
    Critical,
}

impl EscalationSeverity {
    pub const ALL: [EscalationSeverity; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// A risk category the moderation step detects in messages (the moderation crate's
/// categories, in its order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskCategory {
    SelfHarm,
    Suicide,
    AbuseDisclosure,
    SexualExploitationGrooming,
    CriminalExploitation,
    Weapons,
    ViolenceThreat,
    BullyingHarassment,
    Hate,
    DrugsAlcohol,
    Profanity,
    MentalHealthDistress,
}

impl RiskCategory {
    pub const ALL: [RiskCategory; 12] = [
        Self::SelfHarm,
        Self::Suicide,
        Self::AbuseDisclosure,
        Self::SexualExploitationGrooming,
        Self::CriminalExploitation,
        Self::Weapons,
        Self::ViolenceThreat,
        Self::BullyingHarassment,
        Self::Hate,
        Self::DrugsAlcohol,
        Self::Profanity,
        Self::MentalHealthDistress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfHarm => "self_harm",
            Self::Suicide => "suicide",
            Self::AbuseDisclosure => "abuse_disclosure",
            Self::SexualExploitationGrooming => "sexual_exploitation_grooming",
            Self::CriminalExploitation => "criminal_exploitation",
            Self::Weapons => "weapons",
            Self::ViolenceThreat => "violence_threat",
            Self::BullyingHarassment => "bullying_harassment",
            Self::Hate => "hate",
            Self::DrugsAlcohol => "drugs_alcohol",
            Self::Profanity => "profanity",
            Self::MentalHealthDistress => "mental_health_distress",
        }
    }
}

/// The escalations of one severity raised in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeverityFigures {
    pub severity: EscalationSeverity,
    pub raised: ReportCell,
    pub acknowledged: ReportCell,
    /// Acknowledged after their deadline, or still unacknowledged past it.
    pub overdue: ReportCell,
    pub resolved: ReportCell,
    /// Median seconds from raised to acknowledged (`null` when withheld or none).
    pub acknowledge_median_seconds: Option<f64>,
    /// Median seconds from raised to resolved (`null` when withheld or none).
    pub resolve_median_seconds: Option<f64>,
}

/// The moderation queue's items created in the period (held room messages and reports).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModerationFigures {
    pub items: ReportCell,
    /// Of those, decided (so far).
    pub decided: ReportCell,
    /// The decided ones by decision (`approve`, `redact`, `reject`, `remove`, `dismiss`).
    pub decisions: Vec<DistributionCell>,
    /// Median seconds from the item's creation to its decision.
    pub decision_median_seconds: Option<f64>,
}

/// Support chats in which the moderation step detected one risk category, over the period
/// and by day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RiskCategoryFigures {
    pub category: RiskCategory,
    /// Chats with a message in the category sent in the period.
    pub chats: ReportCell,
    /// The same chats by the UTC day (`YYYY-MM-DD`) of their first such message in the
    /// period: every day of the period, in order.
    pub by_day: Vec<DistributionCell>,
}

/// A service report. Counts under `threshold` are withheld (`suppressed`); a breakdown with
/// one withheld cell withholds its smallest other cell too; a median or 90th percentile is
/// withheld when fewer than `threshold` waits make it up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceReport {
    pub from: String,
    pub to: String,
    pub threshold: i64,
    /// The whole report withheld: comparing it with one already released could reveal a
    /// group smaller than `threshold` (differencing); every number is then withheld.
    pub suppressed: bool,
    /// Why, when `suppressed` (widen or change the period).
    pub suppression_reason: Option<String>,
    /// Support chats opened in the period.
    pub contacts: ReportCell,
    /// Of those, taken by a member of staff.
    pub answered: ReportCell,
    /// Of those, closed before anybody took them.
    pub abandoned: ReportCell,
    /// Median seconds from opening to closing, over the abandoned chats.
    pub abandoned_after_median_seconds: Option<f64>,
    /// Young people who opened those chats.
    pub young_people: ReportCell,
    /// Of those, whose first support chat ever is in the period.
    pub first_time: ReportCell,
    /// Of those, who had a support chat before the period.
    pub returning: ReportCell,
    /// Seconds from opening to being taken, over the answered chats.
    pub queue_wait_median_seconds: Option<f64>,
    pub queue_wait_p90_seconds: Option<f64>,
    /// Seconds from opening to the first reply of the member of staff holding the chat.
    pub first_reply_median_seconds: Option<f64>,
    pub first_reply_p90_seconds: Option<f64>,
    /// Median seconds from being taken to being closed, over answered chats now closed.
    pub chat_length_median_seconds: Option<f64>,
    /// Of the contacts, closed (so far).
    pub closed: ReportCell,
    /// The closed ones by outcome: the configured outcomes, then `none` (closed without one
    /// of them).
    pub outcomes: Vec<DistributionCell>,
    /// Support chats handed from one member of staff to another in the period.
    pub transfers: ReportCell,
    /// Contacts by UTC hour of day (`00` … `23`).
    pub contacts_by_hour: Vec<DistributionCell>,
    /// Contacts by UTC day of week (`mon` … `sun`).
    pub contacts_by_weekday: Vec<DistributionCell>,
    pub escalations: Vec<SeverityFigures>,
    pub moderation: ModerationFigures,
    /// Risk categories detected, in the moderation crate's order.
    pub risk_categories: Vec<RiskCategoryFigures>,
}
