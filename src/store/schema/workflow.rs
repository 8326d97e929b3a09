//! The tables of scheduling, approval and live progress: held broadcasts, recurring campaigns'
//! runs, approval requests, progress cards. Kept in step with `migrations/*/` by hand, like
//! the parent file.

use super::*;

// Four-eyes approval (issue 18): a request, and its decision.
diesel::table! {
    approvals (id) {
        id -> Text,
        tenant_id -> Text,
        subject -> Text,
        campaign_id -> Nullable<Text>,
        held -> Nullable<Text>,
        title -> Text,
        author_id -> Text,
        author_actor -> Text,
        asked -> Integer,
        status -> Text,
        decided_by -> Nullable<Text>,
        decided_by_name -> Nullable<Text>,
        reason -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        created_at -> Timestamp,
    }
}
diesel::allow_tables_to_appear_in_same_query!(approvals, campaigns);
diesel::allow_tables_to_appear_in_same_query!(approvals, users);

// Scheduled broadcasts (issue 18): a broadcast held back until it is released.
diesel::table! {
    broadcast_holds (broadcast_id) {
        broadcast_id -> Text,
        send_at -> Nullable<Timestamp>,
        time_zone -> Text,
        awaiting -> Nullable<Text>,
        held_at -> Timestamp,
        held_by -> Text,
        taken_by -> Nullable<Text>,
        taken_until -> Nullable<Timestamp>,
        released_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        cancelled_at -> Nullable<Timestamp>,
        cancelled_by -> Nullable<Text>,
    }
}

diesel::joinable!(broadcast_holds -> broadcasts (broadcast_id));
diesel::allow_tables_to_appear_in_same_query!(broadcast_holds, broadcasts);
diesel::allow_tables_to_appear_in_same_query!(broadcast_holds, broadcast_messages);
diesel::allow_tables_to_appear_in_same_query!(broadcast_holds, deliveries);
diesel::allow_tables_to_appear_in_same_query!(broadcast_holds, report_totals);

diesel::table! {
    campaign_repeats (campaign_id) {
        campaign_id -> Text,
        rule -> Text,
        stopped_at -> Nullable<Timestamp>,
        stopped_by -> Nullable<Text>,
    }
}

diesel::table! {
    campaign_runs (campaign_id) {
        campaign_id -> Text,
        series_id -> Text,
        run -> Integer,
    }
}

diesel::joinable!(campaign_runs -> campaigns (campaign_id));
diesel::allow_tables_to_appear_in_same_query!(campaign_runs, campaigns);
diesel::allow_tables_to_appear_in_same_query!(campaign_repeats, campaigns);
diesel::allow_tables_to_appear_in_same_query!(campaign_repeats, campaign_runs);

// Live progress cards (issue 18).
diesel::table! {
    progress_cards (subject_kind, subject_id) {
        subject_kind -> Text,
        subject_id -> Text,
        tenant_id -> Text,
        user_id -> Text,
        lang -> Text,
        intro -> Text,
        activity_id -> Nullable<Text>,
        posted_at -> Nullable<Timestamp>,
        next_update_at -> Timestamp,
        last_update_at -> Nullable<Timestamp>,
        updates -> Integer,
        last_state -> Nullable<Text>,
        finished_at -> Nullable<Timestamp>,
        failure -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(progress_cards -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(progress_cards, users);
diesel::allow_tables_to_appear_in_same_query!(progress_cards, tenant_dispatch);
