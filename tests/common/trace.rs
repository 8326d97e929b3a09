//! What a request left behind: the row count of every table, before and after.

use super::TestApp;

/// The row count of every table: whatever an activity records shows up here.
pub async fn trace(app: &TestApp) -> Vec<(&'static str, i64)> {
    app.app_db
        .run(|conn| {
            use diesel::prelude::*;
            use herald::store::schema::*;
            macro_rules! counts {
                ($($table:ident),* $(,)?) => {
                    vec![$((
                        stringify!($table),
                        herald::run_on!(&mut *conn, |c| $table::table.count().get_result::<i64>(c))?,
                    )),*]
                };
            }
            Ok(counts!(
                users,
                inbound_activities,
                outbound_messages,
                deliveries,
                distribution_lists,
                list_members,
                audit_log,
                campaigns,
                campaign_not_installed,
                broadcasts,
                broadcast_messages,
                broadcast_not_installed,
                broadcast_reads,
                relay_threads,
                relay_messages,
                app_secrets,
                tracked_links,
                link_clicks,
                campaign_reads,
            ))
        })
        .await
        .expect("row counts")
}

/// The tables whose counts differ between two traces, with the difference.
pub fn changed(
    before: &[(&'static str, i64)],
    after: &[(&'static str, i64)],
) -> Vec<(&'static str, i64)> {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| b.1 != a.1)
        .map(|(b, a)| (b.0, a.1 - b.1))
        .collect()
}
