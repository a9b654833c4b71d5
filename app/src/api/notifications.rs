//! The notifications bell.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Notification, NotificationList};

#[server]
pub async fn list_notifications() -> Result<NotificationList, AppError> {
    crate::port::port()?.notifications().await
}

#[server]
pub async fn read_notification(id: i64) -> Result<Notification, AppError> {
    crate::port::port()?.read_notification(id).await
}

#[server]
pub async fn read_all_notifications() -> Result<(), AppError> {
    crate::port::port()?.read_all_notifications().await
}
