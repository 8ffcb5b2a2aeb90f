//! The OpenAPI document of the JSON API, generated from the handlers and types by utoipa and
//! served at `GET /v1/openapi.json`: what a client author reads instead of the code.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Fengqiao API", description = "案件、收件箱、附件与督查统计（JSON）。同步协议见 docs/PROTOCOL.md。"),
    paths(
        crate::api::list_cases,
        crate::export::cases_csv,
        crate::api::inbox,
        crate::api::units,
        crate::api::mark_review_done,
        crate::api::case_deadlines,
        crate::api::put_attachment,
        crate::api::get_attachment,
        crate::stats::stats,
        crate::report::annual,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the `bearer` scheme the paths name: an access token from `POST /v1/auth/login`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// `GET /v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
