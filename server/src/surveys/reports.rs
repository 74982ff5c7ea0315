//! Reports on survey versions and distance travelled, with small-number suppression applied
//! before any number leaves the server (JSON, CSV and SVG are all built from these).
//!
//! Rules (threshold `k`: the `survey_suppression_threshold` setting, default 5, at least 3):
//! 1. Primary: any count under `k` (zero included) is `null` with `suppressed: true`.
//! 2. Secondary, within a distribution whose cells add up to a shown total: if exactly one
//!    cell is suppressed, the smallest other cell is suppressed too, so the total cannot give
//!    it back; means and medians are withheld whenever any cell is suppressed (they would let
//!    the hidden cells be solved). Multiple choice: a cell is also suppressed when fewer than
//!    `k` people did *not* choose it. Non-respondents under `k` suppress `assigned`.
//! 3. Whole selection: fewer than `k` completed responses (or pairs) withholds everything.
//! 4. Differencing: every released report records its exact population and the numbers it
//!    showed. A report is withheld when, compared with any earlier released one of the same
//!    version (any filters):
//!    a. its population differs by 1 to `k - 1` people; or
//!    b. the respondents of one are all among the respondents of the other (nested
//!    selections: subtracting them gives the cells of the people in between) and any
//!    number shown in both differs by 1 to `k - 1`, or the difference of a total minus
//!    the difference of one of its cells is 1 to `k - 1` (the people in between who did
//!    *not* give that answer). See [`differencing_refuses`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;
use sha2::{Digest, Sha256};
use talkzone_mobile_api::{
    DistanceCell, DistanceQuery, DistanceReport, DistributionCell, QuestionKind, QuestionReport, ReportCell,
    ReportFilters, SurveyAnswer, SurveyDefinition, SurveyReport, SurveyStage,
};

use super::differencing::{differencing_refuses, Cells, Population};
use super::{parse_definition, validation, ADMIN};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::surveys::{Release, ReportRow};

/// The threshold in force: the `survey_suppression_threshold` setting.
pub fn threshold(state: &AppState) -> i64 {
    state.config.surveys.suppression_threshold
}
/// How many earlier releases of one scope a new report is compared with.
const RELEASES_CHECKED: i64 = 1_000;

/// Refuses filters that are malformed (a bad date or stage).
fn check_filters(filters: &ReportFilters) -> ApiResult<()> {
    if let Some(f) = &filters.from {
        validation::check_date("from", f)?;
    }
    if let Some(t) = &filters.to {
        validation::check_date("to", t)?;
    }
    if let Some(s) = &filters.stage {
        if SurveyStage::parse(s).is_none() {
            return Err(ApiError::Validation("stage must be start, middle, end or follow_up".into()));
        }
    }
    Ok(())
}

fn filters_match(filters: &ReportFilters, r: &ReportRow) -> bool {
    let eq = |want: &Option<String>, have: &Option<String>| want.as_ref().is_none_or(|w| have.as_ref() == Some(w));
    eq(&filters.intervention_type, &r.intervention_type_id)
        && eq(&filters.age_band, &r.age_band)
        && eq(&filters.gender, &r.gender)
        && eq(&filters.ethnicity, &r.ethnicity)
        && eq(&filters.looked_after, &r.looked_after)
        && filters.stage.as_ref().is_none_or(|s| *s == r.stage)
        && filters.from.as_ref().is_none_or(|f| r.due_date.as_str() >= f.as_str())
        && filters.to.as_ref().is_none_or(|t| r.due_date.as_str() <= t.as_str())
}

pub(crate) fn cell(n: i64, k: i64) -> ReportCell {
    if n < k {
        ReportCell { value: None, suppressed: true }
    } else {
        ReportCell { value: Some(n), suppressed: false }
    }
}

fn hidden() -> ReportCell {
    ReportCell { value: None, suppressed: true }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A population: person (assignment or participant) → whether they count as responded.
type SurveyPopulation = BTreeMap<String, bool>;

fn encode(p: &SurveyPopulation) -> String {
    p.iter().map(|(id, done)| format!("{id}:{}", u8::from(*done))).collect::<Vec<_>>().join(",")
}

fn decode(s: &str) -> SurveyPopulation {
    s.split(',')
        .filter(|x| !x.is_empty())
        .filter_map(|x| x.rsplit_once(':').map(|(id, d)| (id.to_owned(), d == "1")))
        .collect()
}

/// How many people are in one population and not the other, or in both with a different
/// response status.
fn people_differing(a: &SurveyPopulation, b: &SurveyPopulation) -> usize {
    let ids: HashSet<&String> = a.keys().chain(b.keys()).collect();
    ids.into_iter().filter(|id| a.get(*id) != b.get(*id)).count()
}

/// Whether `a ⊆ b` or `b ⊆ a`.
fn nested<T: Ord>(a: &BTreeSet<T>, b: &BTreeSet<T>) -> bool {
    a.is_subset(b) || b.is_subset(a)
}

/// Survey populations for the shared rules: `assigned` counts non-respondents too, so it is
/// compared only when the whole populations are nested; every other number counts
/// respondents only, so those need the respondents nested. Selections that merely overlap
/// are not compared cell by cell: their difference mixes two groups, and isolating either
/// needs a third release (their intersection or union), which is nested with both and is
/// checked against each when it is asked for.
impl Population for SurveyPopulation {
    fn people_differing(&self, other: &Self) -> i64 {
        people_differing(self, other) as i64
    }

    fn comparable<'a>(&'a self, other: &'a Self) -> Box<dyn Fn(&str) -> bool + 'a> {
        let respondents =
            |p: &Self| p.iter().filter(|(_, done)| **done).map(|(id, _)| id.clone()).collect::<BTreeSet<_>>();
        let everyone = |p: &Self| p.keys().cloned().collect::<BTreeSet<_>>();
        let respondents_nested = nested(&respondents(self), &respondents(other));
        let all_nested = nested(&everyone(self), &everyone(other));
        Box::new(move |key| if key == "assigned" { all_nested } else { respondents_nested })
    }
}

fn survey_cells(r: &SurveyReport) -> Cells {
    let mut c = Cells::new();
    if let Some(v) = r.assigned.value {
        c.insert("assigned".into(), v);
    }
    if let Some(v) = r.completed.value {
        c.insert("assigned/completed".into(), v);
    }
    for q in &r.questions {
        if let Some(v) = q.answered.value {
            c.insert(format!("q:{}", q.question_id), v);
        }
        for d in &q.distribution {
            if let Some(v) = d.count {
                c.insert(format!("q:{}/{}", q.question_id, d.label), v);
            }
        }
    }
    c
}

fn distance_cells(d: &DistanceReport) -> Cells {
    let mut c = Cells::new();
    if let Some(v) = d.pairs.value {
        c.insert("pairs".into(), v);
    }
    for (label, cell) in [("improved", &d.improved), ("same", &d.same), ("worse", &d.worse)] {
        if let Some(v) = cell.count {
            c.insert(format!("pairs/{label}"), v);
        }
    }
    c
}

/// Refuses (with a reason) a report that [`differencing_refuses`] against an earlier release
/// of the same scope; otherwise records it (population and cells) as released.
async fn release(
    state: &AppState,
    user: &AuthUser,
    survey_id: &str,
    scope: &str,
    pop: &SurveyPopulation,
    cells: &Cells,
    k: i64,
) -> ApiResult<Option<String>> {
    let encoded = encode(pop);
    let cells_json = serde_json::to_string(cells).map_err(|e| ApiError::Internal(e.to_string()))?;
    let digest = format!("{:x}", Sha256::digest(encoded.as_bytes()));
    let release = Release {
        scope,
        population: &encoded,
        digest: &digest,
        cells: &cells_json,
        by: &user.id.0,
        now: state.clock.now_ms(),
    };
    let too_close = |earlier: &str, earlier_cells: Option<&str>| {
        differencing_refuses(pop, cells, &decode(earlier), earlier_cells, k)
    };
    if state.store.release_checked(survey_id, &release, RELEASES_CHECKED, &too_close).await? {
        Ok(None)
    } else {
        Ok(Some(format!(
            "this selection differs from a report already released by fewer than {k} people (in all, or in one of \
             its numbers), so comparing the two could reveal a small group's answers; widen or change the filters"
        )))
    }
}

fn labels(q: &talkzone_mobile_api::SurveyQuestion) -> Vec<String> {
    match q.kind {
        QuestionKind::EmojiScale => (1..=5).map(|n| n.to_string()).collect(),
        QuestionKind::Scale0To10 => (0..=10).map(|n| n.to_string()).collect(),
        QuestionKind::YesNo => vec!["yes".into(), "no".into()],
        QuestionKind::SingleChoice | QuestionKind::MultipleChoice => q.options.clone(),
        QuestionKind::FreeText => vec![],
    }
}

fn label_of(v: &Value) -> Option<String> {
    match v {
        Value::Bool(true) => Some("yes".into()),
        Value::Bool(false) => Some("no".into()),
        Value::Number(n) => n.as_i64().map(|n| n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn is_scale(k: QuestionKind) -> bool {
    matches!(k, QuestionKind::EmojiScale | QuestionKind::Scale0To10)
}

pub(crate) fn median(sorted: &[i64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 { sorted[n / 2] as f64 } else { (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0 })
}

/// Suppresses one distribution. `total` is the number who answered; for single-valued
/// questions the cells add up to it.
pub(crate) fn suppress_distribution(
    labels: &[String],
    counts: &[i64],
    total: i64,
    multi: bool,
    k: i64,
) -> (Vec<DistributionCell>, bool) {
    let mut hide: Vec<bool> = counts.iter().map(|&c| c < k || (multi && total - c > 0 && total - c < k)).collect();
    if !multi && hide.iter().filter(|h| **h).count() == 1 {
        if let Some((i, _)) = counts.iter().enumerate().filter(|(i, _)| !hide[*i]).min_by_key(|(_, c)| **c) {
            hide[i] = true;
        }
    }
    let any = hide.iter().any(|h| *h);
    let cells = labels
        .iter()
        .zip(counts)
        .zip(&hide)
        .map(|((l, &c), &h)| DistributionCell {
            label: l.clone(),
            count: if h { None } else { Some(c) },
            suppressed: h,
        })
        .collect();
    (cells, any)
}

fn question_report(
    state: &AppState,
    q: &talkzone_mobile_api::SurveyQuestion,
    answers: &[&Vec<SurveyAnswer>],
    k: i64,
    withheld: bool,
) -> QuestionReport {
    let values: Vec<&Value> =
        answers.iter().filter_map(|a| a.iter().find(|x| x.question_id == q.id).map(|x| &x.value)).collect();
    let answered = values.len() as i64;
    let labels = labels(q);
    let mut report = QuestionReport {
        question_id: q.id.clone(),
        kind: q.kind,
        text: q.text.clone(),
        answered: hidden(),
        distribution: labels
            .iter()
            .map(|l| DistributionCell { label: l.clone(), count: None, suppressed: true })
            .collect(),
        mean: None,
        median: None,
        stats_suppressed: is_scale(q.kind),
        free_text: None,
        free_text_suppressed: q.kind == QuestionKind::FreeText,
    };
    if withheld || answered < k {
        return report;
    }
    report.answered = cell(answered, k);
    if q.kind == QuestionKind::FreeText {
        let mut texts: Vec<String> = values
            .iter()
            .filter_map(|v| v.as_str())
            .map(|t| state.moderation.check(t, talkzone_moderation::Context::Support).redacted)
            .collect();
        // Sorted, so the order says nothing about who answered when.
        texts.sort();
        report.free_text = Some(texts);
        report.free_text_suppressed = false;
        return report;
    }
    let mut counts: HashMap<String, i64> = HashMap::new();
    for v in &values {
        match v {
            Value::Array(items) => {
                for i in items {
                    if let Some(l) = label_of(i) {
                        *counts.entry(l).or_default() += 1;
                    }
                }
            }
            other => {
                if let Some(l) = label_of(other) {
                    *counts.entry(l).or_default() += 1;
                }
            }
        }
    }
    let raw: Vec<i64> = labels.iter().map(|l| counts.get(l).copied().unwrap_or(0)).collect();
    let (cells, any_hidden) = suppress_distribution(&labels, &raw, answered, q.kind == QuestionKind::MultipleChoice, k);
    report.distribution = cells;
    if is_scale(q.kind) && !any_hidden {
        let mut nums: Vec<i64> = values.iter().filter_map(|v| v.as_i64()).collect();
        nums.sort_unstable();
        let sum: i64 = nums.iter().sum();
        report.mean = Some(round3(sum as f64 / nums.len().max(1) as f64));
        report.median = median(&nums);
        report.stats_suppressed = false;
    }
    report
}

/// The report on one version of a survey.
pub async fn version_report(
    state: &AppState,
    user: &AuthUser,
    survey_id: &str,
    version: i64,
    filters: &ReportFilters,
) -> ApiResult<SurveyReport> {
    user.require(ADMIN)?;
    check_filters(filters)?;
    let v = state.store.survey_version_number(survey_id, version).await?.ok_or(ApiError::NotFound)?;
    let def: SurveyDefinition = parse_definition(&v.definition)?;
    let k = threshold(state);
    let rows: Vec<ReportRow> = state
        .store
        .report_rows(survey_id)
        .await?
        .into_iter()
        .filter(|r| r.survey_version_id == v.id && filters_match(filters, r))
        .collect();
    let parsed: Vec<(String, Option<Vec<SurveyAnswer>>)> = rows
        .iter()
        .map(|r| (r.assignment_id.clone(), r.answers.as_deref().and_then(|a| serde_json::from_str(a).ok())))
        .collect();
    let pop: SurveyPopulation = parsed.iter().map(|(id, a)| (id.clone(), a.is_some())).collect();
    let assigned = pop.len() as i64;
    let completed = pop.values().filter(|d| **d).count() as i64;
    let answers: Vec<&Vec<SurveyAnswer>> = parsed.iter().filter_map(|(_, a)| a.as_ref()).collect();
    let build = |reason: Option<String>| {
        let withheld = reason.is_some();
        let questions = def.questions.iter().map(|q| question_report(state, q, &answers, k, withheld)).collect();
        let non_respondents = assigned - completed;
        let assigned_shown = !(withheld || (non_respondents > 0 && non_respondents < k));
        SurveyReport {
            survey_id: survey_id.to_owned(),
            version,
            title: def.title.clone(),
            threshold: k,
            suppressed: withheld,
            suppression_reason: reason,
            assigned: if assigned_shown { cell(assigned, k) } else { hidden() },
            completed: if withheld { hidden() } else { cell(completed, k) },
            response_rate: if assigned_shown { Some(round3(completed as f64 / assigned as f64)) } else { None },
            questions,
        }
    };
    if completed < k {
        return Ok(build(Some(format!("fewer than {k} completed responses in this selection"))));
    }
    // Build it as it would be released, then check its numbers against earlier releases.
    let report = build(None);
    match release(state, user, survey_id, &format!("version:{}", v.id), &pop, &survey_cells(&report), k).await? {
        None => Ok(report),
        Some(reason) => Ok(build(Some(reason))),
    }
}

fn parse_stage(s: Option<&str>, default: SurveyStage, field: &str) -> ApiResult<SurveyStage> {
    match s {
        None => Ok(default),
        Some(s) => SurveyStage::parse(s)
            .ok_or_else(|| ApiError::Validation(format!("{field} must be start, middle, end or follow_up"))),
    }
}

fn distance_cell(n: i64, pairs: i64, hide: bool) -> DistanceCell {
    if hide {
        DistanceCell { count: None, share: None, suppressed: true }
    } else {
        DistanceCell { count: Some(n), share: Some(round3(n as f64 / pairs as f64)), suppressed: false }
    }
}

/// Distance travelled on one scale question: for each participant (and respondent kind) who
/// answered it at both stages (latest final answer at each, any version where the question
/// has the same id and kind), the change later − earlier.
pub async fn distance(
    state: &AppState,
    user: &AuthUser,
    survey_id: &str,
    q: &DistanceQuery,
) -> ApiResult<DistanceReport> {
    user.require(ADMIN)?;
    let from_stage = parse_stage(q.from_stage.as_deref(), SurveyStage::Start, "from_stage")?;
    let to_stage = parse_stage(q.to_stage.as_deref(), SurveyStage::End, "to_stage")?;
    if from_stage == to_stage {
        return Err(ApiError::Validation("from_stage and to_stage must differ".into()));
    }
    let filters = ReportFilters {
        intervention_type: q.intervention_type.clone(),
        age_band: q.age_band.clone(),
        gender: q.gender.clone(),
        ethnicity: q.ethnicity.clone(),
        looked_after: q.looked_after.clone(),
        stage: None,
        from: q.from.clone(),
        to: q.to.clone(),
    };
    check_filters(&filters)?;
    state.store.survey(survey_id).await?.ok_or(ApiError::NotFound)?;
    let versions = state.store.survey_versions(survey_id).await?;
    let mut kinds: HashMap<String, QuestionKind> = HashMap::new();
    let mut kind = None;
    for v in &versions {
        let def = parse_definition(&v.definition)?;
        if let Some(question) = def.questions.iter().find(|x| x.id == q.question_id) {
            kinds.insert(v.id.clone(), question.kind);
            kind = Some(question.kind);
        }
    }
    let Some(kind) = kind.filter(|k| is_scale(*k)) else {
        return Err(ApiError::Validation(format!(
            "question {:?} is not a scale question of this survey (distance travelled needs an emoji or 0-10 scale)",
            q.question_id
        )));
    };
    let value_of = |r: &ReportRow| -> Option<i64> {
        if kinds.get(&r.survey_version_id) != Some(&kind) {
            return None;
        }
        let answers: Vec<SurveyAnswer> = serde_json::from_str(r.answers.as_deref()?).ok()?;
        answers.into_iter().find(|a| a.question_id == q.question_id)?.value.as_i64()
    };
    // (participant, respondent kind) → (submitted_at, value) at each stage, latest wins.
    let mut earlier: HashMap<(String, String), (i64, i64)> = HashMap::new();
    let mut later: HashMap<(String, String), (i64, i64)> = HashMap::new();
    let keep = |m: &mut HashMap<(String, String), (i64, i64)>, key: (String, String), at: i64, v: i64| {
        if m.get(&key).is_none_or(|(t, _)| *t <= at) {
            m.insert(key, (at, v));
        }
    };
    let stage_filter_free = ReportFilters { from: None, to: None, ..filters.clone() };
    for r in state.store.report_rows(survey_id).await? {
        let Some(v) = value_of(&r) else { continue };
        // Chat feedback has no participant, so nothing to pair it with.
        let Some(participant) = r.participant_id.clone() else { continue };
        let key = (participant, r.respondent_kind.clone());
        let at = r.submitted_at.unwrap_or(0);
        if r.stage == from_stage.as_str() && filters_match(&stage_filter_free, &r) {
            keep(&mut earlier, key, at, v);
        } else if r.stage == to_stage.as_str() && filters_match(&filters, &r) {
            keep(&mut later, key, at, v);
        }
    }
    let changes: BTreeMap<String, i64> = later
        .iter()
        .filter_map(|(key, (_, to))| earlier.get(key).map(|(_, from)| (format!("{}|{}", key.0, key.1), to - from)))
        .collect();
    let pairs = changes.len() as i64;
    let k = threshold(state);
    let pop: SurveyPopulation = changes.keys().map(|id| (id.clone(), true)).collect();
    let reason = (pairs < k).then(|| format!("fewer than {k} participants answered at both stages in this selection"));
    let mut out = DistanceReport {
        survey_id: survey_id.to_owned(),
        question_id: q.question_id.clone(),
        from_stage,
        to_stage,
        threshold: k,
        suppressed: reason.is_some(),
        suppression_reason: reason,
        pairs: hidden(),
        mean_change: None,
        improved: distance_cell(0, 1, true),
        same: distance_cell(0, 1, true),
        worse: distance_cell(0, 1, true),
    };
    if out.suppressed {
        return Ok(out);
    }
    let improved = changes.values().filter(|c| **c > 0).count() as i64;
    let same = changes.values().filter(|c| **c == 0).count() as i64;
    let worse = changes.values().filter(|c| **c < 0).count() as i64;
    let labels = ["improved".to_owned(), "same".to_owned(), "worse".to_owned()];
    let (cells, any_hidden) = suppress_distribution(&labels, &[improved, same, worse], pairs, false, k);
    let counts = [improved, same, worse];
    out.pairs = cell(pairs, k);
    out.improved = distance_cell(counts[0], pairs, cells[0].suppressed);
    out.same = distance_cell(counts[1], pairs, cells[1].suppressed);
    out.worse = distance_cell(counts[2], pairs, cells[2].suppressed);
    if !any_hidden {
        out.mean_change = Some(round3(changes.values().sum::<i64>() as f64 / pairs as f64));
    }
    // Built as it would be released; now check its numbers against earlier releases.
    let scope = format!("distance:{survey_id}:{}:{}:{}", q.question_id, from_stage.as_str(), to_stage.as_str());
    if let Some(reason) = release(state, user, survey_id, &scope, &pop, &distance_cells(&out), k).await? {
        return Ok(DistanceReport {
            suppressed: true,
            suppression_reason: Some(reason),
            pairs: hidden(),
            mean_change: None,
            improved: distance_cell(0, 1, true),
            same: distance_cell(0, 1, true),
            worse: distance_cell(0, 1, true),
            ..out
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_small_cell_takes_its_smallest_neighbour_with_it() {
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let (cells, any) = suppress_distribution(&labels, &[10, 3, 7], 20, false, 5);
        assert!(any);
        assert_eq!(cells[0].count, Some(10));
        assert!(cells[1].suppressed && cells[2].suppressed, "3 is primary, 7 secondary");
        let (cells, any) = suppress_distribution(&labels, &[10, 5, 7], 22, false, 5);
        assert!(!any);
        assert!(cells.iter().all(|c| c.count.is_some()));
    }

    fn pop(ids: &[&str]) -> SurveyPopulation {
        ids.iter().map(|i| (i.to_string(), true)).collect()
    }

    fn cells(pairs: &[(&str, i64)]) -> String {
        serde_json::to_string(&pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<Cells>()).unwrap()
    }

    #[test]
    fn nested_selections_may_not_differ_by_a_small_number_in_any_cell() {
        let ten: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
        let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
        let old_pop = pop(&ten[..5]);
        let new_pop = pop(&ten);
        let old = cells(&[("q:a", 5), ("q:a/yes", 5)]);
        // 5 newcomers, all answered yes: every difference is 5 and the complement is 0.
        let new: Cells = [("q:a".to_owned(), 10), ("q:a/yes".to_owned(), 10)].into_iter().collect();
        assert!(!differencing_refuses(&new_pop, &new, &old_pop, Some(&old), 5));
        // 5 newcomers, 3 said yes: the cell differs by 3.
        let new: Cells = [("q:a".to_owned(), 10), ("q:a/yes".to_owned(), 8)].into_iter().collect();
        assert!(differencing_refuses(&new_pop, &new, &old_pop, Some(&old), 5));
        // 6 newcomers, 5 said yes: the cell differs by 5 but 1 newcomer said something else.
        let eleven: Vec<String> = (0..11).map(|i| format!("p{i}")).collect();
        let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
        let new: Cells = [("q:a".to_owned(), 11), ("q:a/yes".to_owned(), 10)].into_iter().collect();
        assert!(differencing_refuses(&pop(&eleven), &new, &old_pop, Some(&old), 5));
        // The same cells, but the selections only overlap: not compared cell by cell.
        let other: Vec<String> = (3..13).map(|i| format!("p{i}")).collect();
        let other: Vec<&str> = other.iter().map(String::as_str).collect();
        let new: Cells = [("q:a".to_owned(), 10), ("q:a/yes".to_owned(), 8)].into_iter().collect();
        assert!(!differencing_refuses(&pop(&other), &new, &old_pop, Some(&old), 5));
        // Releases from before cells were recorded: population rule only.
        assert!(!differencing_refuses(&new_pop, &new, &old_pop, None, 5));
        assert!(differencing_refuses(&pop(&ten[..7]), &new, &old_pop, None, 5));
        // An unreadable record fails closed.
        assert!(differencing_refuses(&new_pop, &new, &old_pop, Some("not json"), 5));
    }

    #[test]
    fn populations_differ_by_people() {
        let a: SurveyPopulation = [("x".to_owned(), true), ("y".to_owned(), false)].into_iter().collect();
        let b: SurveyPopulation =
            [("x".to_owned(), true), ("y".to_owned(), true), ("z".to_owned(), false)].into_iter().collect();
        assert_eq!(people_differing(&a, &b), 2);
        assert_eq!(decode(&encode(&b)), b);
    }
}
