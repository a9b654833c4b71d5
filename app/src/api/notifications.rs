//! The notifications bell.

use leptos::prelude::*;

use super::client::CsrfClient;
use crate::error::AppError;
use crate::model::{Notification, NotificationList};

#[server(prefix = "/fn", client = CsrfClient, endpoint = "list_notifications")]
pub async fn list_notifications() -> Result<NotificationList, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.notifications(&viewer).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "read_notification")]
pub async fn read_notification(id: i64) -> Result<Notification, AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.read_notification(&viewer, id).await
}

#[server(prefix = "/fn", client = CsrfClient, endpoint = "read_all_notifications")]
pub async fn read_all_notifications() -> Result<(), AppError> {
    let (port, viewer) = crate::port::signed_in()?;
    port.read_all_notifications(&viewer).await
}
