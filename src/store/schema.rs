//! The tables, portable across SQLite and PostgreSQL: ids and JSON as text, times as UTC
//! timestamps. Kept in step with `migrations/*/` by hand; the storage tests exercise every column.

diesel::table! {
    users (id) {
        id -> Text,
        tenant_id -> Text,
        channel_id -> Text,
        channel_user_id -> Text,
        aad_object_id -> Nullable<Text>,
        bot_id -> Text,
        service_url -> Text,
        conversation_id -> Text,
        display_name -> Nullable<Text>,
        given_name -> Nullable<Text>,
        surname -> Nullable<Text>,
        email -> Nullable<Text>,
        user_principal_name -> Nullable<Text>,
        locale -> Nullable<Text>,
        time_zone -> Nullable<Text>,
        installed -> Bool,
        installed_changed_at -> Timestamp,
        not_installed_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        installed_by_herald -> Bool,
        presence_availability -> Nullable<Text>,
        presence_activity -> Nullable<Text>,
        presence_observed_at -> Nullable<Timestamp>,
        mailbox_time_zone -> Nullable<Text>,
        mailbox_time_zone_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    inbound_activities (channel_id, conversation_id, activity_id) {
        channel_id -> Text,
        conversation_id -> Text,
        activity_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    outbound_messages (id) {
        id -> Text,
        tenant_id -> Text,
        kind -> Text,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        message_id -> Text,
        tenant_id -> Text,
        user_id -> Text,
        operation -> Text,
        target_activity_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        leased_by -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamp>,
        activity_id -> Nullable<Text>,
        failure -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        planned_at -> Nullable<Timestamp>,
        ladder_step -> Integer,
        presence -> Nullable<Text>,
        last_attempt_at -> Nullable<Timestamp>,
        repairs -> Integer,
        resends -> Integer,
        planned_zone -> Nullable<Text>,
        presence_activity -> Nullable<Text>,
    }
}

diesel::joinable!(deliveries -> users (user_id));
diesel::joinable!(deliveries -> outbound_messages (message_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    inbound_activities,
    outbound_messages,
    deliveries
);

diesel::table! {
    distribution_lists (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        name_key -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    list_members (list_id, email) {
        list_id -> Text,
        email -> Text,
        added_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        tenant_id -> Text,
        actor -> Text,
        action -> Text,
        outcome -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    list_groups (list_id, group_id) {
        list_id -> Text,
        group_id -> Text,
        name -> Text,
        mail -> Nullable<Text>,
        added_at -> Timestamp,
    }
}
diesel::joinable!(list_members -> distribution_lists (list_id));
diesel::joinable!(list_groups -> distribution_lists (list_id));
diesel::allow_tables_to_appear_in_same_query!(distribution_lists, list_members, list_groups, users);

diesel::table! {
    campaigns (id) {
        id -> Text,
        tenant_id -> Text,
        name -> Text,
        name_key -> Text,
        list_id -> Text,
        channel -> Text,
        start_at -> Timestamp,
        time_zone -> Text,
        duration_minutes -> BigInt,
        hours -> Text,
        presence -> Text,
        message -> Text,
        status -> Text,
        seed -> BigInt,
        targeted -> Integer,
        not_installed -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        install -> Bool,
        herald_installed -> Integer,
        local_time -> Bool,
        zone_fallbacks -> Integer,
    }
}

diesel::table! {
    campaign_not_installed (campaign_id, email) {
        campaign_id -> Text,
        email -> Text,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    broadcasts (id) {
        id -> Text,
        tenant_id -> Text,
        number -> Integer,
        subject -> Text,
        body -> Text,
        list_id -> Nullable<Text>,
        audience -> Text,
        sender_id -> Text,
        sender_name -> Text,
        targeted -> Integer,
        not_installed -> Integer,
        status -> Text,
        created_at -> Timestamp,
        recalled_at -> Nullable<Timestamp>,
        recalled_by -> Nullable<Text>,
        recalled_by_user -> Nullable<Text>,
        recall_reported_at -> Nullable<Timestamp>,
        install -> Bool,
        herald_installed -> Integer,
        remind_after_minutes -> Nullable<Integer>,
        remind_at -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
        ack -> Bool,
        choices -> Nullable<Text>,
    }
}

diesel::table! {
    broadcast_messages (message_id) {
        message_id -> Text,
        broadcast_id -> Text,
        role -> Text,
        lang -> Text,
    }
}

diesel::table! {
    broadcast_not_installed (broadcast_id, email) {
        broadcast_id -> Text,
        email -> Text,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    broadcast_reads (broadcast_id, user_id) {
        broadcast_id -> Text,
        user_id -> Text,
        read_at -> Timestamp,
        source -> Text,
    }
}

diesel::table! {
    relay_threads (id) {
        id -> Text,
        broadcast_id -> Text,
        recipient_id -> Text,
        sender_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    relay_messages (id) {
        id -> BigInt,
        thread_id -> Text,
        direction -> Text,
        text -> Text,
        message_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(broadcast_messages -> broadcasts (broadcast_id));
diesel::joinable!(broadcast_reads -> broadcasts (broadcast_id));
diesel::joinable!(broadcast_reads -> users (user_id));
diesel::joinable!(relay_messages -> relay_threads (thread_id));
diesel::allow_tables_to_appear_in_same_query!(
    broadcasts,
    broadcast_messages,
    broadcast_reads,
    relay_threads,
    relay_messages,
    deliveries,
);
diesel::allow_tables_to_appear_in_same_query!(users, broadcasts);
diesel::allow_tables_to_appear_in_same_query!(users, broadcast_messages);
diesel::allow_tables_to_appear_in_same_query!(users, broadcast_reads);
diesel::allow_tables_to_appear_in_same_query!(users, relay_threads);
diesel::allow_tables_to_appear_in_same_query!(users, relay_messages);

diesel::table! {
    app_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tracked_links (message_id, idx) {
        message_id -> Text,
        idx -> Integer,
        url -> Text,
    }
}

diesel::table! {
    link_clicks (delivery_id, idx) {
        delivery_id -> BigInt,
        idx -> Integer,
        first_at -> Timestamp,
        last_at -> Timestamp,
        clicks -> Integer,
    }
}

diesel::joinable!(link_clicks -> deliveries (delivery_id));
diesel::allow_tables_to_appear_in_same_query!(link_clicks, deliveries, tracked_links);
diesel::allow_tables_to_appear_in_same_query!(users, link_clicks);
diesel::allow_tables_to_appear_in_same_query!(users, tracked_links);

diesel::table! {
    campaign_reads (campaign_id, user_id) {
        campaign_id -> Text,
        user_id -> Text,
        read_at -> Timestamp,
        source -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(campaign_reads, deliveries);
diesel::allow_tables_to_appear_in_same_query!(campaign_reads, users);

diesel::table! {
    tenant_dispatch (tenant_id) {
        tenant_id -> Text,
        owner -> Text,
        expires_at -> Timestamp,
        acquired_at -> Timestamp,
        renewed_at -> Timestamp,
    }
}

diesel::table! {
    engine_instances (name) {
        name -> Text,
        started_at -> Timestamp,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    report_totals (subject_id) {
        subject_id -> Text,
        kind -> Text,
        counts -> Text,
        folded_at -> Timestamp,
    }
}

diesel::table! {
    presence_subscriptions (id) {
        id -> Text,
        tenant_id -> Text,
        client_state -> Text,
        users -> Text,
        user_count -> Integer,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        renewed_at -> Timestamp,
    }
}

diesel::table! {
    duties (name) {
        name -> Text,
        owner -> Text,
        expires_at -> Timestamp,
        acquired_at -> Timestamp,
    }
}

diesel::table! {
    maintenance_runs (name) {
        name -> Text,
        ran_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(report_totals, campaigns);
diesel::allow_tables_to_appear_in_same_query!(report_totals, broadcasts);
diesel::allow_tables_to_appear_in_same_query!(report_totals, broadcast_messages);
diesel::allow_tables_to_appear_in_same_query!(report_totals, deliveries);

diesel::table! {
    broadcast_reminders (id) {
        id -> Text,
        broadcast_id -> Text,
        round -> Integer,
        automatic -> Bool,
        requested_by -> Nullable<Text>,
        created_at -> Timestamp,
        queued -> Integer,
    }
}

diesel::table! {
    broadcast_acks (broadcast_id, user_id) {
        broadcast_id -> Text,
        user_id -> Text,
        acked_at -> Timestamp,
    }
}

diesel::table! {
    broadcast_answers (broadcast_id, user_id) {
        broadcast_id -> Text,
        user_id -> Text,
        choice -> Integer,
        answered_at -> Timestamp,
        changes -> Integer,
    }
}

diesel::table! {
    message_reactions (subject_id, user_id, reaction) {
        subject_id -> Text,
        subject_kind -> Text,
        user_id -> Text,
        reaction -> Text,
        reacted_at -> Timestamp,
    }
}

diesel::joinable!(broadcast_reminders -> broadcasts (broadcast_id));
diesel::joinable!(broadcast_acks -> broadcasts (broadcast_id));
diesel::joinable!(broadcast_acks -> users (user_id));
diesel::joinable!(broadcast_answers -> broadcasts (broadcast_id));
diesel::joinable!(broadcast_answers -> users (user_id));
diesel::joinable!(message_reactions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    broadcast_reminders,
    broadcast_acks,
    broadcast_answers,
    message_reactions,
);
diesel::allow_tables_to_appear_in_same_query!(broadcast_reminders, broadcasts);
diesel::allow_tables_to_appear_in_same_query!(broadcast_reminders, broadcast_reads);
diesel::allow_tables_to_appear_in_same_query!(broadcast_reminders, broadcast_messages);
diesel::allow_tables_to_appear_in_same_query!(broadcast_reminders, deliveries);
diesel::allow_tables_to_appear_in_same_query!(broadcast_reminders, users);
diesel::allow_tables_to_appear_in_same_query!(broadcast_reminders, campaigns);
diesel::allow_tables_to_appear_in_same_query!(broadcast_reminders, campaign_reads);
diesel::allow_tables_to_appear_in_same_query!(broadcast_reminders, outbound_messages);
diesel::allow_tables_to_appear_in_same_query!(broadcast_acks, broadcasts);
diesel::allow_tables_to_appear_in_same_query!(broadcast_acks, broadcast_reads);
diesel::allow_tables_to_appear_in_same_query!(broadcast_acks, broadcast_messages);
diesel::allow_tables_to_appear_in_same_query!(broadcast_acks, deliveries);
diesel::allow_tables_to_appear_in_same_query!(broadcast_acks, users);
diesel::allow_tables_to_appear_in_same_query!(broadcast_acks, campaigns);
diesel::allow_tables_to_appear_in_same_query!(broadcast_acks, campaign_reads);
diesel::allow_tables_to_appear_in_same_query!(broadcast_acks, outbound_messages);
diesel::allow_tables_to_appear_in_same_query!(broadcast_answers, broadcasts);
diesel::allow_tables_to_appear_in_same_query!(broadcast_answers, broadcast_reads);
diesel::allow_tables_to_appear_in_same_query!(broadcast_answers, broadcast_messages);
diesel::allow_tables_to_appear_in_same_query!(broadcast_answers, deliveries);
diesel::allow_tables_to_appear_in_same_query!(broadcast_answers, users);
diesel::allow_tables_to_appear_in_same_query!(broadcast_answers, campaigns);
diesel::allow_tables_to_appear_in_same_query!(broadcast_answers, campaign_reads);
diesel::allow_tables_to_appear_in_same_query!(broadcast_answers, outbound_messages);
diesel::allow_tables_to_appear_in_same_query!(message_reactions, broadcasts);
diesel::allow_tables_to_appear_in_same_query!(message_reactions, broadcast_reads);
diesel::allow_tables_to_appear_in_same_query!(message_reactions, broadcast_messages);
diesel::allow_tables_to_appear_in_same_query!(message_reactions, deliveries);
diesel::allow_tables_to_appear_in_same_query!(message_reactions, users);
diesel::allow_tables_to_appear_in_same_query!(message_reactions, campaigns);
diesel::allow_tables_to_appear_in_same_query!(message_reactions, campaign_reads);
diesel::allow_tables_to_appear_in_same_query!(message_reactions, outbound_messages);

// The tables of scheduling, approval and live progress (issue 18).
mod workflow;
pub use workflow::*;
