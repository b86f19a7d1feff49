//! The one-form page (`templates/hosted/form.html`): a heading, an optional
//! introduction and error, hidden values, fields, a button and links. Pages
//! whose form is only that (the email flows) need no template of their own.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use tessera_core::model::App;

use crate::hosted::render::html;

/// An input of the form.
pub(crate) struct Field {
    /// Name (and id).
    pub(crate) name: &'static str,
    /// Label.
    pub(crate) label: &'static str,
    /// `type`.
    pub(crate) kind: &'static str,
    /// `autocomplete`.
    pub(crate) autocomplete: &'static str,
    /// `inputmode`.
    pub(crate) inputmode: &'static str,
    /// Pre-filled value.
    pub(crate) value: String,
}

impl Field {
    /// The email address input.
    pub(crate) fn email(value: &str) -> Self {
        Field {
            name: "email",
            label: "Email",
            kind: "email",
            autocomplete: "username",
            inputmode: "email",
            value: value.to_owned(),
        }
    }
}

struct Hidden {
    name: &'static str,
    value: String,
}

/// A link under the form.
pub(crate) struct Link {
    /// Relative target.
    pub(crate) href: String,
    /// Text.
    pub(crate) text: &'static str,
}

/// A one-form page, built step by step and rendered with [`FormPage::render`].
#[derive(Template)]
#[template(path = "hosted/form.html")]
pub(crate) struct FormPage<'a> {
    app_name: &'a str,
    heading: &'a str,
    intro: Option<&'a str>,
    error: Option<String>,
    action: String,
    csrf: &'a str,
    hidden: Vec<Hidden>,
    fields: Vec<Field>,
    button: &'a str,
    links: Vec<Link>,
}

impl<'a> FormPage<'a> {
    /// A form of `app` posting to `action` with the CSRF token `csrf`.
    pub(crate) fn new(
        app: &'a App,
        csrf: &'a str,
        heading: &'a str,
        action: String,
        button: &'a str,
    ) -> Self {
        FormPage {
            app_name: &app.name,
            heading,
            intro: None,
            error: None,
            action,
            csrf,
            hidden: Vec::new(),
            fields: Vec::new(),
            button,
            links: Vec::new(),
        }
    }

    /// With an introduction under the heading.
    pub(crate) fn intro(mut self, intro: &'a str) -> Self {
        self.intro = Some(intro);
        self
    }

    /// With an error above the form (when there is one).
    pub(crate) fn error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }

    /// With a hidden value.
    pub(crate) fn hidden(mut self, name: &'static str, value: &str) -> Self {
        self.hidden.push(Hidden {
            name,
            value: value.to_owned(),
        });
        self
    }

    /// With an input.
    pub(crate) fn field(mut self, field: Field) -> Self {
        self.fields.push(field);
        self
    }

    /// With a link under the form.
    pub(crate) fn link(mut self, link: Link) -> Self {
        self.links.push(link);
        self
    }

    /// The page as an answer with `status`.
    pub(crate) fn render(&self, status: StatusCode) -> Response {
        html(status, self)
    }
}
