//! Ids and roles: who and what every other type refers to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

id_type!(
    /// An opaque user id (random, never sequential).
    UserId
);

id_type!(
    /// An opaque conversation id (random, never sequential).
    ConversationId
);

id_type!(
    /// An opaque message id (random, never sequential).
    MessageId
);

/// Who a user is to the service; every route and frame checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    YoungPerson,
    ParentCarer,
    DutyWorker,
    Supervisor,
    Moderator,
    YotAdmin,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::YoungPerson, Role::ParentCarer, Role::DutyWorker, Role::Supervisor, Role::Moderator, Role::YotAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::YoungPerson => "young_person",
            Role::ParentCarer => "parent_carer",
            Role::DutyWorker => "duty_worker",
            Role::Supervisor => "supervisor",
            Role::Moderator => "moderator",
            Role::YotAdmin => "yot_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Staff are everyone who works for the service (not young people or parents/carers).
    pub fn is_staff(self) -> bool {
        matches!(self, Role::DutyWorker | Role::Supervisor | Role::Moderator | Role::YotAdmin)
    }

    /// Roles that answer support chats.
    pub fn answers_chats(self) -> bool {
        matches!(self, Role::DutyWorker | Role::Supervisor)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
