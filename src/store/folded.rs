//! Folded reports: what reports show of a finished campaign or broadcast, kept in one
//! `report_totals` row before retention purges the rows it was counted from. Reports read the
//! folded figures from then on (see `store::retention`).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::schema::{broadcast_messages as bm, report_totals as t};
use super::{Conn, StoreError};
use crate::run_on;

/// What a folded row is the report of.
pub mod kind {
    pub const CAMPAIGN: &str = "campaign";
    pub const BROADCAST: &str = "broadcast";
}

/// A finished campaign's report, folded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldedCampaign {
    pub counts: super::figures::CampaignCounts,
    pub clicked_people: i64,
    pub clicks: i64,
    pub reads: i64,
    /// Reactions per type (`store::reactions::counts`).
    #[serde(default)]
    pub reactions: Vec<(String, i64)>,
}

/// A finished broadcast's report, folded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldedBroadcast {
    pub counts: super::figures::BroadcastCounts,
    pub unread: i64,
    pub clicked_people: i64,
    pub clicks: i64,
    /// Reactions per type (`store::reactions::counts`).
    #[serde(default)]
    pub reactions: Vec<(String, i64)>,
}

fn folded<T: for<'de> Deserialize<'de>>(
    conn: &mut Conn<'_>,
    id: &str,
) -> Result<Option<T>, StoreError> {
    let json: Option<String> = run_on!(conn, |x| t::table
        .find(id)
        .select(t::counts)
        .first(x)
        .optional())?;
    // A row that cannot be read back is treated as absent: the live rows are counted instead.
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

pub fn folded_campaign(
    conn: &mut Conn<'_>,
    id: &str,
) -> Result<Option<FoldedCampaign>, StoreError> {
    folded(conn, id)
}

pub fn folded_broadcast(
    conn: &mut Conn<'_>,
    id: &str,
) -> Result<Option<FoldedBroadcast>, StoreError> {
    folded(conn, id)
}

/// The folded clicks of the campaign or broadcast `messages` belong to, if it was folded.
pub fn folded_engagement(
    conn: &mut Conn<'_>,
    messages: &[String],
) -> Result<Option<super::figures::Engagement>, StoreError> {
    let Some(first) = messages.first() else {
        return Ok(None);
    };
    if let Some(f) = folded_campaign(conn, first)? {
        return Ok(Some(super::figures::Engagement {
            people: f.clicked_people,
            clicks: f.clicks,
        }));
    }
    let broadcast: Option<String> = run_on!(conn, |x| bm::table
        .find(first)
        .select(bm::broadcast_id)
        .first(x)
        .optional())?;
    Ok(match broadcast {
        Some(id) => folded_broadcast(conn, &id)?.map(|f| super::figures::Engagement {
            people: f.clicked_people,
            clicks: f.clicks,
        }),
        None => None,
    })
}
