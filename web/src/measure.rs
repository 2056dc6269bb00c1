//! Timing the engine in the browser, for the end-to-end run's report (never asserted).

use labvisor_core::net::sim::{Action, Network};
use labvisor_core::net::testbed;
use wasm_bindgen::prelude::*;

/// Routers in the measured chain: `2 × 24 + 2` = 50 nodes.
pub const ROUTERS: usize = 24;

/// Times one simulation step (`Network::apply(Send)`: a TCP SYN across all 24 routers of the
/// 50-node [`testbed::router_chain`] and the SYN-ACK back) `rounds` times, each on a fresh copy
/// of the network made before the clock starts. Returns `[first step ms, mean ms per step,
/// trace steps of one send]`; the mean comes from one `performance.now()` span over all
/// rounds, since the browser coarsens each reading.
#[wasm_bindgen(js_name = measureSimStep)]
pub fn measure_sim_step(rounds: u32) -> Result<Vec<f64>, JsError> {
    let rounds = rounds.clamp(1, 10_000) as usize;
    let (topology, send) = testbed::router_chain(ROUTERS);
    let network = Network::new(topology).map_err(|problems| {
        JsError::new(&format!("the 50-node chain does not wire: {problems:?}"))
    })?;
    let action = Action::Send(send);
    let mut first = network.clone();
    let t0 = crate::browser::now_ms();
    let steps = first
        .apply(&action)
        .map_err(|e| JsError::new(&e.to_string()))?;
    let first_ms = crate::browser::now_ms() - t0;
    let mut copies = vec![network; rounds];
    let t0 = crate::browser::now_ms();
    for net in &mut copies {
        let _ = std::hint::black_box(net.apply(&action));
    }
    let mean_ms = (crate::browser::now_ms() - t0) / rounds as f64;
    Ok(vec![first_ms, mean_ms, steps.len() as f64])
}
