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

/// The escalations of one severity raised in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SeverityFigures {
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    pub raised: ReportCell,
    pub acknowledged: ReportCell,
    /// Acknowledged after their deadline, or still unacknowledged past it.
    pub overdue: ReportCell,
    /// Median seconds from raised to acknowledged (`null` when withheld or none).
    pub acknowledge_median_seconds: Option<f64>,
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
    /// Seconds from opening to being taken, over the answered chats.
    pub queue_wait_median_seconds: Option<f64>,
    pub queue_wait_p90_seconds: Option<f64>,
    /// Contacts by UTC hour of day (`00` … `23`).
    pub contacts_by_hour: Vec<DistributionCell>,
    /// Contacts by UTC day of week (`mon` … `sun`).
    pub contacts_by_weekday: Vec<DistributionCell>,
    pub escalations: Vec<SeverityFigures>,
}
