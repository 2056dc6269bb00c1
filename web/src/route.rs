//! Where the learner is: the app's routes, kept in the URL fragment.
//!
//! Routes live after `#` so that the site works from any static host (no server rewrites) and
//! every page can be bookmarked. A share link is a route too: `#/share/<payload>` carries a
//! learner's lab state (see [`crate::share`]); the app applies it and then shows the route that
//! was shared.

use serde::{Deserialize, Serialize};

/// The interactive tools, each a page of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ToolId {
    /// IPv4 classifier and subnet calculator.
    Ipv4,
    /// TCP/UDP port lookup.
    Ports,
    /// Host sizing: reserve, VM allocations, overcommit.
    Sizing,
    /// Type 1 / type 2 hypervisor sorter.
    Hypervisors,
    /// The network lab: topology, packet trace, NAT tables.
    Network,
    /// The disk lab: block map, delete versus compact, a real .vdi download.
    Disks,
}

impl ToolId {
    /// Every tool, in the order the home page lists them.
    pub const ALL: [ToolId; 6] = [
        ToolId::Network,
        ToolId::Disks,
        ToolId::Ipv4,
        ToolId::Ports,
        ToolId::Sizing,
        ToolId::Hypervisors,
    ];

    /// The path segment naming the tool in URLs and embed options.
    pub fn slug(self) -> &'static str {
        match self {
            ToolId::Ipv4 => "ipv4",
            ToolId::Ports => "ports",
            ToolId::Sizing => "sizing",
            ToolId::Hypervisors => "hypervisors",
            ToolId::Network => "network",
            ToolId::Disks => "disks",
        }
    }

    /// The tool named by `slug`, if any.
    pub fn from_slug(slug: &str) -> Option<ToolId> {
        ToolId::ALL.into_iter().find(|t| t.slug() == slug)
    }
}

/// A page of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The lesson list and the tools.
    Home,
    /// One tool.
    Tool(ToolId),
    /// The network lab opened at one scenario, from the lesson `from` when a lesson's "Open
    /// the lab" led there (`#/tool/network/<scenario>?from=<lesson>`).
    NetworkScenario {
        scenario: String,
        from: Option<String>,
    },
    /// One lesson, opened at an exercise (1-based).
    Lesson { id: String, exercise: u32 },
    /// A share link, not yet decoded.
    Share(String),
    /// A fragment that names no page.
    NotFound(String),
}

impl Route {
    /// Reads a route from `location.hash` (with or without the leading `#`).
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        if let Some(route) = network_scenario(path) {
            return route;
        }
        // A page may read a query of its own (`#/tool/network?predict`); the route is the path.
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        let mut parts = path.split('/');
        match (parts.next().unwrap_or(""), parts.next(), parts.next()) {
            ("", None, None) => Route::Home,
            ("tool", Some(slug), None) => match ToolId::from_slug(slug) {
                Some(tool) => Route::Tool(tool),
                None => Route::NotFound(path.to_string()),
            },
            ("lesson", Some(id), exercise) if is_lesson_id(id) => {
                match exercise.map(str::parse::<u32>) {
                    None => Route::Lesson {
                        id: id.to_string(),
                        exercise: 1,
                    },
                    Some(Ok(n)) if n >= 1 => Route::Lesson {
                        id: id.to_string(),
                        exercise: n,
                    },
                    Some(_) => Route::NotFound(path.to_string()),
                }
            }
            ("share", Some(payload), None) => Route::Share(payload.to_string()),
            _ => Route::NotFound(path.to_string()),
        }
    }

    /// The fragment for this route, with its leading `#`.
    pub fn to_hash(&self) -> String {
        match self {
            Route::Home => "#/".to_string(),
            Route::Tool(tool) => format!("#/tool/{}", tool.slug()),
            Route::NetworkScenario {
                scenario,
                from: None,
            } => format!("#/tool/network/{scenario}"),
            Route::NetworkScenario {
                scenario,
                from: Some(lesson),
            } => format!("#/tool/network/{scenario}?from={lesson}"),
            Route::Lesson { id, exercise: 1 } => format!("#/lesson/{id}"),
            Route::Lesson { id, exercise } => format!("#/lesson/{id}/{exercise}"),
            Route::Share(payload) => format!("#/share/{payload}"),
            Route::NotFound(path) => format!("#/{path}"),
        }
    }
}

/// `tool/network/<scenario>` with an optional `?from=<lesson>`; `None` for any other path, and
/// for a scenario or lesson that is not a slug.
fn network_scenario(path: &str) -> Option<Route> {
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path, None),
    };
    let scenario = path.strip_prefix("tool/network/")?;
    // `from=` is the route's; `predict` is the lab page's own (`tools/network/stepper.rs`);
    // anything else is not a page.
    let mut from = None;
    for param in query.into_iter().flat_map(|q| q.split('&')) {
        match param.strip_prefix("from=") {
            Some(id) if is_lesson_id(id) => from = Some(id),
            None if param == "predict" || param == "predict=1" => {}
            _ => return None,
        }
    }
    is_lesson_id(scenario).then(|| Route::NetworkScenario {
        scenario: scenario.to_string(),
        from: from.map(str::to_string),
    })
}

/// Lesson ids are short lowercase slugs such as `nat` or `host-sizing`.
fn is_lesson_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_page_and_round_trips() {
        let routes = [
            Route::Home,
            Route::Tool(ToolId::Ipv4),
            Route::Tool(ToolId::Hypervisors),
            Route::Lesson {
                id: "nat".into(),
                exercise: 1,
            },
            Route::Lesson {
                id: "host-sizing".into(),
                exercise: 3,
            },
            Route::Share("AQID".into()),
            Route::NetworkScenario {
                scenario: "forward-to-vm2".into(),
                from: Some("port-forwarding".into()),
            },
            Route::NetworkScenario {
                scenario: "home-nat".into(),
                from: None,
            },
        ];
        for route in routes {
            assert_eq!(Route::parse(&route.to_hash()), route, "{}", route.to_hash());
        }
        assert_eq!(Route::parse(""), Route::Home);
        assert_eq!(Route::parse("#"), Route::Home);
    }

    #[test]
    fn unknown_fragments_are_not_found() {
        for bad in [
            "#/tool/nope",
            "#/lesson/NAT",
            "#/lesson/nat/0",
            "#/lesson/nat/x",
            "#/a/b/c",
            "#/tool/ipv4/extra",
            "#/tool/network/Forward",
            "#/tool/network/home-nat?to=nat",
            "#/tool/network/home-nat?from=../x",
            "#/tool/network/a/b",
        ] {
            assert!(
                matches!(Route::parse(bad), Route::NotFound(_)),
                "{bad} should be NotFound"
            );
        }
    }
}
