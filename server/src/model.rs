//! The domain's kinds and states, as types: what the database keeps as text is parsed once, at
//! the store's edge (`#[sqlx(try_from = …)]` on the records), and a typo does not compile.
//!
//! Where the protocol already names the values (roles, conversation kinds and states, message
//! kinds, room settings), the domain uses those enums; severity is the moderation crate's
//! ordered [`Severity`]. The rest are the server's own: message status, escalation state and
//! source, moderation item kind and state, and the audit log's actions and targets.

pub use talkzone_mobile_api::{
    ClosedReason, ConversationKind, ConversationState, MessageKind, PersonalInfoMode, Role, RoomModeration,
    UnknownVariant,
};
pub use talkzone_moderation::Severity;

/// An enum kept as text: `as_str` for writing, `TryFrom<String>` and `FromStr` for reading.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident as $of:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(UnknownVariant { of: $of, value: s.to_owned() }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownVariant;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

text_enum! {
    /// Where a message is in its life.
    pub enum MessageStatus as "message status" {
        /// Delivered (it has a `seq`).
        Visible = "visible",
        /// Held for a moderator (no `seq` yet).
        Held = "held",
        /// A moderator refused a held message: never delivered.
        Rejected = "rejected",
        /// Removed by a moderator after delivery (kept as evidence, shown as a placeholder).
        Removed = "removed",
    }
}

text_enum! {
    /// An escalation's progress.
    pub enum EscalationState as "escalation state" {
        Open = "open",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

text_enum! {
    /// Who raised an escalation.
    pub enum EscalationSource as "escalation source" {
        /// A duty worker or supervisor, by hand.
        Worker = "worker",
        /// The moderation step, on a high or critical message.
        Moderation = "moderation",
        /// The young person, reporting a message of their own support chat (which never goes
        /// to the moderation queue).
        YoungPerson = "young_person",
    }
}

text_enum! {
    /// What put an item in the moderation queue.
    pub enum ModerationItemKind as "moderation item kind" {
        /// A room message held before delivery.
        Hold = "hold",
        /// A user's report of a message.
        Report = "report",
    }
}

text_enum! {
    /// A moderation item's progress.
    pub enum ModerationItemState as "moderation item state" {
        Open = "open",
        Decided = "decided",
    }
}

text_enum! {
    /// A text the whole service runs on, kept by version in the database.
    pub enum PolicyKind as "policy kind" {
        /// The moderation rules (TOML).
        Moderation = "moderation",
        /// What a young person is told about who may read their chat.
        MonitoringNotice = "monitoring_notice",
    }
}

text_enum! {
    /// What a member of staff says was wrong with a moderation verdict.
    pub enum VerdictMarkKind as "verdict mark kind" {
        /// A risk it did not flag, or flagged too low.
        Missed = "missed",
        /// A risk it flagged that is not there, or flagged too high.
        Wrong = "wrong",
    }
}

text_enum! {
    /// What a record of the audit log is about.
    pub enum AuditTarget as "audit target" {
        User = "user",
        Conversation = "conversation",
        Escalation = "escalation",
        Service = "service",
        Policy = "policy",
        Survey = "survey",
        SurveyParticipant = "survey_participant",
        SurveyAssignment = "survey_assignment",
        InterventionType = "intervention_type",
        SurveySetting = "survey_setting",
        CannedReply = "canned_reply",
        ModerationItem = "moderation_item",
        /// A service report (docs/reports.md); the id is `service`.
        Report = "report",
    }
}

text_enum! {
    /// What was done, in the audit log.
    pub enum AuditAction as "audit action" {
        UserCreated = "user_created",
        CapacitySet = "capacity_set",
        PasswordChanged = "password_changed",
        RefreshTokenReused = "refresh_token_reused",
        SessionEnded = "session_ended",
        SessionsEnded = "sessions_ended",
        UserSuspended = "user_suspended",
        UserReactivated = "user_reactivated",
        UserOffboarded = "user_offboarded",
        RoleChanged = "role_changed",
        /// A single sign-on the identity provider vouched for, refused here (no mapped role, or
        /// the account is suspended or offboarded).
        SsoRefused = "sso_refused",
        PasswordResetIssued = "password_reset_issued",
        PasswordReset = "password_reset",
        SecondFactorReset = "second_factor_reset",
        SecondFactorEnrolled = "second_factor_enrolled",
        RecoveryCodeUsed = "recovery_code_used",
        PasskeyAdded = "passkey_added",
        PasskeyRemoved = "passkey_removed",
        /// A passkey's signature counter went backwards: its authenticator may have been copied;
        /// the sign-in was refused.
        PasskeyCounterRegressed = "passkey_counter_regressed",
        AccountErased = "account_erased",
        DataExported = "data_exported",
        DutyOn = "duty_on",
        DutyOff = "duty_off",
        DutyCapReached = "duty_cap_reached",
        ShiftAdded = "shift_added",
        ShiftRemoved = "shift_removed",
        ConversationAccepted = "conversation_accepted",
        ConversationRequeued = "conversation_requeued",
        ConversationTransferred = "conversation_transferred",
        ConversationClosed = "conversation_closed",
        ConversationTagged = "conversation_tagged",
        ConversationRead = "conversation_read",
        SupervisorJoined = "supervisor_joined",
        SafeguardingHoldPlaced = "safeguarding_hold_placed",
        SafeguardingHoldLifted = "safeguarding_hold_lifted",
        /// What a deletion request left under a hold was deleted when the hold was lifted.
        ErasureCompleted = "erasure_completed",
        /// A moderator or supervisor was shown a moderation item (its evidence).
        ModerationItemRead = "moderation_item_read",
        /// A supervisor marked a support chat as abuse: closed, its source blocked for a while.
        ConversationMarkedAbuse = "conversation_marked_abuse",
        MonitoringNoticeAcknowledged = "monitoring_notice_acknowledged",
        EscalationRaised = "escalation_raised",
        EscalationAcknowledged = "escalation_acknowledged",
        EscalationAction = "escalation_action",
        EscalationReescalated = "escalation_reescalated",
        EscalationResolved = "escalation_resolved",
        RoomCreated = "room_created",
        ServiceCreated = "service_created",
        ServiceUpdated = "service_updated",
        ServiceRetired = "service_retired",
        ModerationPolicyReplaced = "moderation_policy_replaced",
        InterventionTypeCreated = "intervention_type_created",
        InterventionTypeRetired = "intervention_type_retired",
        SurveyCreated = "survey_created",
        SurveyDraftUpdated = "survey_draft_updated",
        SurveyPublished = "survey_published",
        SurveyParticipantCreated = "survey_participant_created",
        SurveyParticipantDeleted = "survey_participant_deleted",
        SurveyAssigned = "survey_assigned",
        ChatFeedbackSurveySet = "chat_feedback_survey_set",
        ChatFeedbackOffered = "chat_feedback_offered",
        SurveyAccessCodeIssued = "survey_access_code_issued",
        SurveyNewVersion = "survey_new_version",
        SurveyPublishUnchanged = "survey_publish_unchanged",
        SurveyAssignmentsListed = "survey_assignments_listed",
        SurveyReportViewed = "survey_report_viewed",
        SurveyReportExported = "survey_report_exported",
        ServiceReportViewed = "service_report_viewed",
        ServiceReportExported = "service_report_exported",
        SurveyChartExported = "survey_chart_exported",
        SurveyDistanceViewed = "survey_distance_viewed",
        SurveyDistanceExported = "survey_distance_exported",
        MonitoringNoticeReplaced = "monitoring_notice_replaced",
        VerdictMarksExported = "verdict_marks_exported",
        CannedReplyCreated = "canned_reply_created",
        CannedReplyUpdated = "canned_reply_updated",
        CannedReplyDeleted = "canned_reply_deleted",
        RecoveryPhraseUsed = "recovery_phrase_used",
    }
}

/// A text column that may be NULL, for the records' optional enum fields: sqlx decodes it,
/// and `TryFrom` parses it (`#[sqlx(try_from = "NullableText")]`).
pub struct NullableText(pub Option<String>);

impl<DB: sqlx::Database> sqlx::Type<DB> for NullableText
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for NullableText
where
    Option<String>: sqlx::Decode<'r, DB>,
{
    fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(NullableText(<Option<String> as sqlx::Decode<'r, DB>>::decode(value)?))
    }
}

/// `TryFrom<NullableText>` for `Option<T>` of each optional enum field's type.
macro_rules! nullable {
    ($($t:ty),*) => {$(
        impl TryFrom<NullableText> for Option<$t> {
            type Error = UnknownVariant;
            fn try_from(text: NullableText) -> Result<Self, Self::Error> {
                text.0.map(<$t>::try_from).transpose()
            }
        }
    )*};
}

nullable!(Role, RoomModeration, PersonalInfoMode, ClosedReason);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_reads_back_what_it_writes() {
        for s in MessageStatus::ALL {
            assert_eq!(s.as_str().parse::<MessageStatus>(), Ok(*s));
        }
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::try_from(a.as_str().to_owned()), Ok(*a));
        }
        for t in AuditTarget::ALL {
            assert_eq!(t.to_string().parse::<AuditTarget>(), Ok(*t));
        }
        let bad = "asigned".parse::<EscalationState>().unwrap_err();
        assert_eq!(bad.to_string(), "\"asigned\" is not a known escalation state");
        assert_eq!(Option::<Role>::try_from(NullableText(None)), Ok(None));
        assert_eq!(Option::<Role>::try_from(NullableText(Some("supervisor".into()))), Ok(Some(Role::Supervisor)));
        assert!(Option::<Role>::try_from(NullableText(Some("boss".into()))).is_err());
    }
}
