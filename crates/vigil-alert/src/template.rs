//! Subject / topic / routing-key templates such as `vigil.alerts.{camera}.{kind}.{severity}`.
//!
//! Templates are parsed once at start-up (so a typo in a placeholder is a config error, not a
//! runtime surprise) and rendered per alert. Values are sanitised before substitution: a camera
//! id like `gate 1/north` must not inject a wildcard (`*`, `>`, `#`, `+`) or an extra level
//! separator into a subject, so every character outside `[A-Za-z0-9_-]` becomes `_`. The rule
//! kind keeps its dots (`plate.hotlist`) because they are hierarchy on purpose; for MQTT the dots
//! become `/` so subscribers can filter with `+`/`#` the same way they would on NATS.

use std::fmt;

use crate::meta::AlertMeta;

/// A placeholder a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    Camera,
    Kind,
    Severity,
    Node,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Var(Var),
}

/// Separator between hierarchy levels of the target bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Levels {
    /// NATS subjects and AMQP topic routing keys: `a.b.c`.
    Dot,
    /// MQTT topics: `a/b/c`.
    Slash,
}

/// A parsed template; render it with [`Template::render`].
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
    levels: Levels,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Why a template was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{name}` with a name the renderer does not know.
    #[error(
        "unknown placeholder {{{name}}} in {template:?}; known: {{camera}} {{kind}} {{severity}} {{node}}"
    )]
    UnknownPlaceholder {
        /// The template text.
        template: String,
        /// The unknown name.
        name: String,
    },
    /// A `{` without a closing `}`.
    #[error("unclosed '{{' in {template:?}")]
    Unclosed {
        /// The template text.
        template: String,
    },
    /// The template is empty.
    #[error("empty template")]
    Empty,
}

impl Template {
    /// Parses `text`; `levels` decides how the rule kind's dots are written.
    pub fn parse(text: &str, levels: Levels) -> Result<Self, TemplateError> {
        if text.is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| TemplateError::Unclosed {
                template: text.into(),
            })?;
            let var = match &after[..close] {
                "camera" => Var::Camera,
                "kind" => Var::Kind,
                "severity" => Var::Severity,
                "node" => Var::Node,
                other => {
                    return Err(TemplateError::UnknownPlaceholder {
                        template: text.into(),
                        name: other.into(),
                    });
                }
            };
            parts.push(Part::Var(var));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_owned()));
        }
        Ok(Self {
            source: text.to_owned(),
            parts,
            levels,
        })
    }

    /// The text the template was parsed from.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Renders the template for one alert on node `node`.
    pub fn render(&self, meta: &AlertMeta, node: &str) -> String {
        let mut out = String::with_capacity(self.source.len() + 32);
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Var(Var::Camera) => push_token(&mut out, &meta.camera),
                Part::Var(Var::Node) => push_token(&mut out, node),
                Part::Var(Var::Severity) => push_token(&mut out, meta.severity.as_str()),
                Part::Var(Var::Kind) => push_kind(&mut out, &meta.kind, self.levels),
            }
        }
        out
    }
}

/// Appends `value` as one hierarchy level: unsafe characters become `_`, empty becomes `_`.
fn push_token(out: &mut String, value: &str) {
    if value.is_empty() {
        out.push('_');
        return;
    }
    out.extend(value.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            c
        } else {
            '_'
        }
    }));
}

/// Appends a dotted rule kind as several levels, each sanitised like [`push_token`].
fn push_kind(out: &mut String, kind: &str, levels: Levels) {
    let sep = match levels {
        Levels::Dot => '.',
        Levels::Slash => '/',
    };
    for (i, level) in kind.split('.').enumerate() {
        if i > 0 {
            out.push(sep);
        }
        push_token(out, level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{AlertMeta, Severity};
    use proptest::prelude::*;

    fn meta(camera: &str, kind: &str) -> AlertMeta {
        AlertMeta::for_test(camera, kind, Severity::High)
    }

    #[test]
    fn renders_the_documented_default() {
        let t = Template::parse("vigil.alerts.{camera}.{kind}.{severity}", Levels::Dot).expect("parse");
        assert_eq!(
            t.render(&meta("gate-1", "plate.hotlist"), "n1"),
            "vigil.alerts.gate-1.plate.hotlist.high"
        );
        let t = Template::parse("vigil/{node}/{camera}/{kind}", Levels::Slash).expect("parse");
        assert_eq!(
            t.render(&meta("gate-1", "plate.hotlist"), "n1"),
            "vigil/n1/gate-1/plate/hotlist"
        );
    }

    #[test]
    fn rejects_unknown_and_unclosed_placeholders() {
        assert!(matches!(
            Template::parse("a.{camra}", Levels::Dot),
            Err(TemplateError::UnknownPlaceholder { name, .. }) if name == "camra"
        ));
        assert!(matches!(
            Template::parse("a.{camera", Levels::Dot),
            Err(TemplateError::Unclosed { .. })
        ));
        assert_eq!(Template::parse("", Levels::Dot), Err(TemplateError::Empty));
    }

    proptest! {
        /// Whatever an operator names a camera, it stays exactly one level without wildcards.
        #[test]
        fn camera_is_one_safe_level(camera in "\\PC*") {
            let t = Template::parse("x.{camera}.y", Levels::Dot).expect("parse");
            let s = t.render(&meta(&camera, "zone.enter"), "n");
            prop_assert_eq!(s.split('.').count(), 3);
            prop_assert!(!s.contains(['*', '>', '#', '+', ' ', '/']));
            prop_assert!(!s.split('.').any(str::is_empty));
        }
    }
}
