//! Microsoft Graph change notifications for presence: `POST /api/graph/notifications` and
//! `POST /api/graph/lifecycle`. Both answer Graph's validation handshake (the
//! `validationToken` query parameter echoed as text/plain); notifications are answered 202 at
//! once, their presences fetched afterwards. Without presence subscriptions: 404.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{HttpResponse, web};

use crate::presence::Keeper;
use crate::presence::notifications::{self, Batch};

/// Longest validation token echoed back.
const MAX_TOKEN: usize = 2048;

type Query = web::Query<HashMap<String, String>>;

fn handshake(query: &Query) -> Option<HttpResponse> {
    let token = query.get("validationToken")?;
    Some(if token.len() > MAX_TOKEN {
        HttpResponse::BadRequest().finish()
    } else {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(token.clone())
    })
}

async fn answer<F, Fut>(
    keeper: Option<web::Data<Arc<Keeper>>>,
    query: Query,
    body: web::Bytes,
    act: F,
) -> HttpResponse
where
    F: FnOnce(Arc<Keeper>, Batch) -> Fut,
    Fut: std::future::Future<Output = Result<usize, crate::store::StoreError>>,
{
    let Some(keeper) = keeper else {
        return HttpResponse::NotFound().finish();
    };
    if let Some(response) = handshake(&query) {
        return response;
    }
    let batch = match notifications::parse(&body) {
        Ok(batch) => batch,
        Err(e) => {
            tracing::debug!(error = %e, "refused a Graph notification body");
            return HttpResponse::BadRequest().finish();
        }
    };
    match act(keeper.get_ref().clone(), batch).await {
        Ok(_) => HttpResponse::Accepted().finish(),
        Err(e) => {
            // Graph delivers again later.
            tracing::warn!(error = %e, "Graph notifications not handled");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

pub async fn notifications(
    keeper: Option<web::Data<Arc<Keeper>>>,
    query: Query,
    body: web::Bytes,
) -> HttpResponse {
    answer(keeper, query, body, |k, b| async move {
        notifications::changed(&k, b).await
    })
    .await
}

pub async fn lifecycle(
    keeper: Option<web::Data<Arc<Keeper>>>,
    query: Query,
    body: web::Bytes,
) -> HttpResponse {
    answer(keeper, query, body, |k, b| async move {
        notifications::lifecycle(&k, b).await
    })
    .await
}
