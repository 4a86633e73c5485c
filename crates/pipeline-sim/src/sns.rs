//! SNS topics with Lambda subscriptions: a publish becomes one `{"Records": [...]}` event per subscription,
//! in the shape Lambda receives it (`aws_lambda_events::sns::SnsEvent` parses it), delivered asynchronously
//! with Lambda's retries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::lambda::{AsyncDelivery, FunctionHost};
use crate::{ACCOUNT, REGION};

/// SNS's limit on a message (256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The ARN of a topic named `name` in the simulated account.
pub fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:{REGION}:{ACCOUNT}:{name}")
}

/// The functions a message goes to, each with the event it is invoked with.
pub type Targets = Vec<(Arc<FunctionHost>, Value)>;

/// A Lambda function subscribed to a topic.
#[derive(Clone)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub endpoint: Arc<FunctionHost>,
}

/// One published message and the event each subscription receives for it.
#[derive(Clone, Debug)]
pub struct Notification {
    pub topic_arn: String,
    pub message_id: String,
    pub subject: Option<String>,
    pub message: String,
    pub timestamp: DateTime<Utc>,
    /// (function name, the `{"Records": [...]}` event it is invoked with), one per subscription.
    pub events: Vec<(String, Value)>,
}

#[derive(Default)]
pub struct Topics {
    subscriptions: Mutex<Vec<Subscription>>,
    published: Mutex<Vec<Notification>>,
    counter: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Topics {
    /// Subscribes a function to a topic (creating the topic if needed) and returns the subscription ARN.
    pub fn subscribe(&self, topic_arn: &str, endpoint: Arc<FunctionHost>) -> String {
        let arn = format!("{topic_arn}:{}", self.new_id());
        lock(&self.subscriptions).push(Subscription {
            arn: arn.clone(),
            topic_arn: topic_arn.into(),
            endpoint,
        });
        arn
    }

    pub fn subscriptions(&self, topic_arn: &str) -> Vec<Subscription> {
        lock(&self.subscriptions)
            .iter()
            .filter(|s| s.topic_arn == topic_arn)
            .cloned()
            .collect()
    }

    /// Publishes a message: records it and builds each subscription's event, without delivering.
    /// `Err` if the message is over SNS's size limit.
    pub fn publish(&self, topic_arn: &str, subject: Option<&str>, message: &str) -> Result<Notification, String> {
        self.publish_for_delivery(topic_arn, subject, message)
            .map(|(notification, _)| notification)
    }

    /// [`Topics::publish`], with each subscribed function and the event to invoke it with.
    pub fn publish_for_delivery(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
    ) -> Result<(Notification, Targets), String> {
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(format!(
                "message of {} bytes is over SNS's {MAX_MESSAGE_BYTES}-byte limit",
                message.len()
            ));
        }
        let message_id = self.new_id();
        let timestamp = Utc::now();
        let targets: Targets = self
            .subscriptions(topic_arn)
            .into_iter()
            .map(|subscription| {
                let event = sns_event(&subscription, &message_id, subject, message, timestamp);
                (subscription.endpoint, event)
            })
            .collect();
        let notification = Notification {
            topic_arn: topic_arn.into(),
            message_id,
            subject: subject.map(str::to_owned),
            message: message.into(),
            timestamp,
            events: targets
                .iter()
                .map(|(host, event)| (host.name().to_owned(), event.clone()))
                .collect(),
        };
        lock(&self.published).push(notification.clone());
        Ok((notification, targets))
    }

    /// Publishes and waits until every subscription took the message (or dead-lettered it).
    pub async fn publish_and_deliver(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
    ) -> Result<Vec<(String, AsyncDelivery)>, String> {
        let (_, targets) = self.publish_for_delivery(topic_arn, subject, message)?;
        let mut deliveries = Vec::new();
        for (host, event) in targets {
            deliveries.push((host.name().to_owned(), host.invoke_async(event).await));
        }
        Ok(deliveries)
    }

    /// Every message published so far, in order.
    pub fn published(&self) -> Vec<Notification> {
        lock(&self.published).clone()
    }

    fn new_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{n:08x}-5e5e-4{:03x}-8{:03x}-{:012x}", n & 0xfff, (n >> 12) & 0xfff, n)
    }
}

/// The event Lambda receives for one SNS message on one subscription.
pub fn sns_event(
    subscription: &Subscription,
    message_id: &str,
    subject: Option<&str>,
    message: &str,
    timestamp: DateTime<Utc>,
) -> Value {
    let endpoint = format!("https://sns.{REGION}.amazonaws.com");
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription.arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": message_id,
                "TopicArn": subscription.topic_arn,
                "Subject": subject,
                "Message": message,
                "Timestamp": timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
                "SignatureVersion": "1",
                "Signature": "c2ltdWxhdGVkIHNpZ25hdHVyZTogdGhlIGxvY2FsIHBpcGVsaW5lIHNpbXVsYXRvciBkb2VzIG5vdCBzaWdu",
                "SigningCertUrl": format!("{endpoint}/SimpleNotificationService-0000000000000000000000000000000.pem"),
                "UnsubscribeUrl": format!(
                    "{endpoint}/?Action=Unsubscribe&SubscriptionArn={}",
                    subscription.arn
                ),
                "MessageAttributes": {},
            },
        }],
    })
}
