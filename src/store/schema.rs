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

diesel::allow_tables_to_appear_in_same_query!(users, inbound_activities);
