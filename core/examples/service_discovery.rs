//! Service discovery in Curator's x-discovery layout.
//!
//! `cargo run --example service_discovery [host:port,...]` — without a
//! connect string it starts an in-process server. It registers instances,
//! queries them, and shows a `ServiceCache` following registrations,
//! updates and a provider whose session ends.

use std::error::Error;
use std::time::Duration;

use corral::client::Client;
use corral::recipes::discovery::{ServiceCache, ServiceDiscovery, ServiceInstance};
use corral::EmbeddedServer;

fn show(what: &str, instances: &[ServiceInstance]) {
    println!("{what}:");
    if instances.is_empty() {
        println!("    (no instances)");
    }
    for i in instances {
        let zone = i.payload.as_ref().and_then(|p| p.get("zone")).map(|z| z.to_string()).unwrap_or_default();
        println!("    {} {} zone={zone}", i.id, i.build_uri().unwrap_or_default());
    }
}

async fn next(cache: &mut ServiceCache, what: &str) {
    match tokio::time::timeout(Duration::from_secs(10), cache.changed()).await {
        Ok(Some(list)) => show(&format!("cache after {what}"), &list),
        _ => println!("cache did not change after {what}"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (_server, hosts) = match std::env::args().nth(1) {
        Some(hosts) => (None, hosts),
        None => {
            let server = EmbeddedServer::start().await?;
            let hosts = server.hosts();
            println!("started an embedded server on {hosts}");
            (Some(server), hosts)
        }
    };
    let base = format!("/examples/services-{}", std::process::id());

    // Two providers, each with its own session, and one consumer.
    let provider_a = Client::connect(&hosts).await?;
    let provider_b = Client::connect(&hosts).await?;
    let consumer = Client::connect(&hosts).await?;
    let da = ServiceDiscovery::new(&provider_a, &base);
    let db = ServiceDiscovery::new(&provider_b, &base);
    let dc = ServiceDiscovery::new(&consumer, &base);

    let uri = "{scheme}://{address}:{port}";
    let a = ServiceInstance::new("api").with_id("api-a").with_address("10.0.0.1").with_port(8080).with_uri_spec(uri);
    let b = ServiceInstance::new("api")
        .with_id("api-b")
        .with_address("10.0.0.2")
        .with_port(8443)
        .with_ssl_port(8443)
        .with_uri_spec("{scheme}://{address}:{ssl-port}")
        .with_payload(serde_json::json!({"zone": "eu-1"}));
    da.register(&a).await?;
    db.register(&b).await?;
    db.register(
        &ServiceInstance::new("search").with_id("search-1").with_address("10.0.0.3").with_port(9200).with_uri_spec(uri),
    )
    .await?;

    println!("services: {:?}", dc.query_for_names().await?);
    show("api instances", &dc.query_for_instances("api").await?);
    if let Some(i) = dc.query_for_instance("api", "api-a").await? {
        println!("api-a as Curator stores it: {}", String::from_utf8_lossy(&i.to_json()));
    }

    let mut cache = dc.service_cache("api").await?;
    show("cache", &cache.instances());

    let c = ServiceInstance::new("api").with_id("api-c").with_address("10.0.0.4").with_port(8080).with_uri_spec(uri);
    da.register(&c).await?;
    next(&mut cache, "registering api-c").await;

    da.update(&a.clone().with_payload(serde_json::json!({"zone": "us-2"}))).await?;
    next(&mut cache, "updating api-a").await;

    db.unregister(&b).await?;
    next(&mut cache, "unregistering api-b").await;

    provider_a.close().await;
    next(&mut cache, "provider A's session ended").await;

    db.close().await?;
    Ok(())
}
