//! The typed model of PVE's JSON-schema dialect: one [`Schema`] per parameter, return
//! value or property-string key, and the apidoc tree of [`ApidocNode`]s that carries them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// A schema node in PVE's dialect (`optional`, `typetext`, named or dictionary `format`, ...).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Schema {
    /// `type`: string, integer, number, boolean, array, object, null or any.
    #[serde(rename = "type", default, deserialize_with = "de_type")]
    pub ty: Option<SchemaType>,
    /// `optional`: the parameter may be left out.
    #[serde(default, deserialize_with = "de_bool")]
    pub optional: bool,
    /// `default`: the value PVE uses when the parameter is absent.
    #[serde(default)]
    pub default: Option<Value>,
    /// `description`.
    #[serde(default)]
    pub description: Option<Box<str>>,
    /// `verbose_description`.
    #[serde(default)]
    pub verbose_description: Option<Box<str>>,
    /// `typetext`: PVE's one-line rendering of the type (used by `usage`).
    #[serde(default)]
    pub typetext: Option<Box<str>>,
    /// `title`.
    #[serde(default)]
    pub title: Option<Box<str>>,
    /// `format_description`: short name of a property-string key's value.
    #[serde(default)]
    pub format_description: Option<Box<str>>,
    /// `enum`: the allowed values (PVE compares them as strings).
    #[serde(rename = "enum", default, deserialize_with = "de_enum")]
    pub enumeration: Option<Vec<String>>,
    /// `pattern`: a Perl regex, implicitly anchored at both ends.
    #[serde(default)]
    pub pattern: Option<Box<str>>,
    /// `minimum` for numbers.
    #[serde(default, deserialize_with = "de_num")]
    pub minimum: Option<f64>,
    /// `maximum` for numbers.
    #[serde(default, deserialize_with = "de_num")]
    pub maximum: Option<f64>,
    /// `minLength` for strings.
    #[serde(rename = "minLength", default, deserialize_with = "de_num")]
    pub min_length: Option<f64>,
    /// `maxLength` for strings.
    #[serde(rename = "maxLength", default, deserialize_with = "de_num")]
    pub max_length: Option<f64>,
    /// `format`: a registered format name (`pve-vmid`, `pve-node-list`) or a property-string
    /// dictionary.
    #[serde(default)]
    pub format: Option<Format>,
    /// `default_key`: this key may be given without `key=` in a property string.
    #[serde(default, deserialize_with = "de_bool")]
    pub default_key: bool,
    /// `alias`: this property-string key stands for another key.
    #[serde(default)]
    pub alias: Option<Box<str>>,
    /// `keyAlias`: with `alias`, the key itself is stored as the value of this other key.
    #[serde(rename = "keyAlias", default)]
    pub key_alias: Option<Box<str>>,
    /// `items` for arrays.
    #[serde(default)]
    pub items: Option<Box<Schema>>,
    /// `properties` for objects (parameters of a method, members of a returned object).
    #[serde(default)]
    pub properties: Option<BTreeMap<String, Schema>>,
    /// `additionalProperties`: absent (allowed), 0/1, or a schema for the extra members.
    #[serde(rename = "additionalProperties", default)]
    pub additional_properties: Option<AdditionalProperties>,
    /// `requires`: another property (or schema) this one needs.
    #[serde(default)]
    pub requires: Option<Value>,
    /// `type-property`: the sibling property whose value selects a `oneOf` variant.
    #[serde(rename = "type-property", default)]
    pub type_property: Option<Box<str>>,
    /// `instance-types`: the values of `type-property` this variant belongs to.
    #[serde(rename = "instance-types", default)]
    pub instance_types: Option<Vec<String>>,
    /// `oneOf` alternatives.
    #[serde(rename = "oneOf", default)]
    pub one_of: Option<Vec<Schema>>,
    /// `links`: for directory indexes, which member of each item names the child
    /// (`[{"rel": "child", "href": "{subdir}"}]`).
    #[serde(default)]
    pub links: Option<Vec<Link>>,
    /// The compiled `pattern`, built on first use.
    #[serde(skip)]
    pub(crate) pattern_re: OnceLock<Option<Box<fancy_regex::Regex>>>,
    /// The indexed families among `properties` (`net[n]`), found on first use.
    #[serde(skip)]
    pub(crate) families: OnceLock<Vec<super::IndexedFamily>>,
}

/// A hyper-schema link of a directory index.
#[derive(Debug, Clone, Deserialize)]
pub struct Link {
    /// `child` for directory indexes.
    #[serde(default)]
    pub rel: String,
    /// `{subdir}`: the item member that holds the child's path segment.
    #[serde(default)]
    pub href: String,
}

impl Schema {
    /// The indexed families among the properties (`net[n]` ...), found once per schema.
    pub fn families(&self) -> &[super::IndexedFamily] {
        self.families
            .get_or_init(|| super::IndexedFamily::collect(self.properties.as_ref()))
    }

    /// The item member that names a child in a directory index (`subdir`, `name`, ...).
    pub fn child_link_key(&self) -> Option<&str> {
        self.links
            .as_ref()?
            .iter()
            .find(|l| l.rel == "child")?
            .href
            .strip_prefix('{')?
            .strip_suffix('}')
    }
}

/// The `type` of a schema node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    /// `string`
    String,
    /// `integer`
    Integer,
    /// `number`
    Number,
    /// `boolean` (0/1 on the wire)
    Boolean,
    /// `array`
    Array,
    /// `object`
    Object,
    /// `null`
    Null,
    /// `any` (or a type PVE does not check)
    Any,
}

impl SchemaType {
    /// The name PVE uses for this type.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::String => "string",
            SchemaType::Integer => "integer",
            SchemaType::Number => "number",
            SchemaType::Boolean => "boolean",
            SchemaType::Array => "array",
            SchemaType::Object => "object",
            SchemaType::Null => "null",
            SchemaType::Any => "any",
        }
    }

    fn parse(s: &str) -> SchemaType {
        match s {
            "string" => SchemaType::String,
            "integer" => SchemaType::Integer,
            "number" => SchemaType::Number,
            "boolean" => SchemaType::Boolean,
            "array" => SchemaType::Array,
            "object" => SchemaType::Object,
            "null" => SchemaType::Null,
            _ => SchemaType::Any,
        }
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A schema's `format`.
#[derive(Debug, Clone)]
pub enum Format {
    /// A registered format name, possibly with a `-list` or `-opt` suffix.
    Named(String),
    /// A property-string format: key -> schema of that key's value. The Perl products
    /// write the dictionary itself; the Rust ones (PBS, PDM) an object schema whose
    /// `default_key` names the key that may stand alone, read into this same form.
    PropertyString(BTreeMap<String, Schema>),
    /// A list in one string (the Rust products' array formats): items separated by commas,
    /// semicolons or white space, each checked against this schema.
    List(Box<Schema>),
}

impl<'de> Deserialize<'de> for Format {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Format::from_value(v).map_err(de::Error::custom)
    }
}

impl Format {
    fn from_value(v: Value) -> Result<Format, serde_json::Error> {
        let rust_dialect = v.get("type").is_some_and(Value::is_string);
        match v {
            Value::String(name) => Ok(Format::Named(name)),
            Value::Object(mut map) if rust_dialect => {
                let ty = map.get("type").and_then(Value::as_str).unwrap_or_default();
                if ty == "array" {
                    let items = map.remove("items").unwrap_or(Value::Null);
                    let item: Schema = if items.is_null() {
                        Schema::default()
                    } else {
                        serde_json::from_value(items)?
                    };
                    return Ok(Format::List(Box::new(item)));
                }
                let default_key = map
                    .get("default_key")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let props = map.remove("properties").unwrap_or(Value::Null);
                let mut dict: BTreeMap<String, Schema> = if props.is_null() {
                    BTreeMap::new()
                } else {
                    serde_json::from_value(props)?
                };
                if let Some(key) = default_key {
                    if let Some(s) = dict.get_mut(&key) {
                        s.default_key = true;
                    }
                }
                Ok(Format::PropertyString(dict))
            }
            other => Ok(Format::PropertyString(serde_json::from_value(other)?)),
        }
    }
}

/// A schema's `additionalProperties`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AdditionalProperties {
    /// `0`/`1` (or `false`/`true`).
    Allowed(#[serde(deserialize_with = "de_bool_value")] bool),
    /// A schema every extra member must satisfy.
    Schema(Box<Schema>),
}

impl Schema {
    /// The declared type, `any` when none is given.
    pub fn schema_type(&self) -> SchemaType {
        self.ty.unwrap_or(SchemaType::Any)
    }

    /// The property-string dictionary when `format` is one.
    pub fn property_string_format(&self) -> Option<&BTreeMap<String, Schema>> {
        match &self.format {
            Some(Format::PropertyString(map)) => Some(map),
            _ => None,
        }
    }

    /// The named format, if any.
    pub fn format_name(&self) -> Option<&str> {
        match &self.format {
            Some(Format::Named(name)) => Some(name),
            _ => None,
        }
    }

    /// The compiled `pattern` (anchored, Perl syntax translated), built once.
    pub fn pattern_regex(&self) -> Option<&fancy_regex::Regex> {
        let p = self.pattern.as_deref()?;
        self.pattern_re
            .get_or_init(|| crate::schema::formats::compile_pattern(p).map(Box::new))
            .as_deref()
    }

    /// Whether members not listed in `properties` are refused.
    pub fn forbids_additional_properties(&self) -> bool {
        matches!(
            self.additional_properties,
            Some(AdditionalProperties::Allowed(false))
        )
    }
}

/// One node of the apidoc tree: a path and the methods it answers.
#[derive(Debug, Clone, Deserialize)]
pub struct ApidocNode {
    /// The path template, for example `/nodes/{node}/qemu`.
    pub path: String,
    /// The last segment as the API viewer shows it.
    #[serde(default)]
    pub text: String,
    /// Whether the node has no children.
    #[serde(default, deserialize_with = "de_bool")]
    pub leaf: bool,
    /// The methods, keyed by HTTP method name.
    #[serde(default)]
    pub info: BTreeMap<String, MethodInfo>,
    /// The sub-paths.
    #[serde(default)]
    pub children: Vec<ApidocNode>,
}

/// One method of a path, as the apidoc describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct MethodInfo {
    /// The HTTP method.
    #[serde(default)]
    pub method: String,
    /// PVE's handler name (`vm_config`); not unique across the API.
    #[serde(default)]
    pub name: String,
    /// What the method does.
    #[serde(default)]
    pub description: String,
    /// The parameters as one object schema.
    #[serde(default)]
    pub parameters: Schema,
    /// The schema of the `data` member of the answer.
    #[serde(default)]
    pub returns: Schema,
    /// Who may call it, as PVE writes it.
    #[serde(default)]
    pub permissions: Option<Value>,
    /// Runs in the privileged daemon.
    #[serde(default, deserialize_with = "de_bool")]
    pub protected: bool,
    /// May be called with an API token (PVE's default is yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub allowtoken: bool,
    /// Answers with a file download.
    #[serde(default, deserialize_with = "de_bool")]
    pub download: bool,
}

fn yes() -> bool {
    true
}

/// Reads PVE's booleans: `0`/`1`, `true`/`false`, `"0"`/`"1"`, `null`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !matches!(s.as_str(), "" | "0" | "false" | "no" | "off"),
        Value::Null => false,
        _ => true,
    }
}

fn de_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(truthy(&Value::deserialize(d)?))
}

fn de_bool_value<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        v @ (Value::Bool(_) | Value::Number(_) | Value::String(_)) => Ok(truthy(&v)),
        _ => Err(de::Error::custom("expected a boolean")),
    }
}

fn de_num<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected a number, got '{s}'"))),
        Value::Null => Ok(None),
        other => Err(de::Error::custom(format!("expected a number, got {other}"))),
    }
}

fn de_type<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SchemaType>, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(Some(SchemaType::parse(&s))),
        // A union type (`["string", "array"]`): PVE accepts any of them; we treat it as any.
        Value::Array(_) => Ok(Some(SchemaType::Any)),
        Value::Null => Ok(None),
        other => Err(de::Error::custom(format!(
            "expected a type name, got {other}"
        ))),
    }
}

fn de_enum<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(items) => Ok(Some(
            items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
        )),
        Value::Null => Ok(None),
        other => Err(de::Error::custom(format!("expected a list, got {other}"))),
    }
}

impl Schema {
    /// Renders the schema back in PVE's dialect (what the apidoc said, normalized).
    pub fn to_pve_value(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        if let Some(t) = self.ty {
            put("type", Value::from(t.as_str()));
        }
        if self.optional {
            put("optional", Value::from(1));
        }
        if let Some(d) = &self.default {
            put("default", d.clone());
        }
        for (k, v) in [
            ("description", &self.description),
            ("verbose_description", &self.verbose_description),
            ("typetext", &self.typetext),
            ("title", &self.title),
            ("format_description", &self.format_description),
            ("pattern", &self.pattern),
            ("alias", &self.alias),
            ("keyAlias", &self.key_alias),
            ("type-property", &self.type_property),
        ] {
            if let Some(v) = v {
                put(k, Value::from(v.as_ref()));
            }
        }
        if let Some(e) = &self.enumeration {
            put("enum", Value::from(e.clone()));
        }
        for (k, v) in [
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
        ] {
            if let Some(n) = v {
                put(k, number(n));
            }
        }
        match &self.format {
            Some(Format::Named(n)) => put("format", Value::from(n.as_str())),
            Some(Format::PropertyString(d)) => put("format", map_value(d)),
            Some(Format::List(item)) => put(
                "format",
                serde_json::json!({"type": "array", "items": item.to_pve_value()}),
            ),
            None => {}
        }
        if self.default_key {
            put("default_key", Value::from(1));
        }
        if let Some(i) = &self.items {
            put("items", i.to_pve_value());
        }
        if let Some(p) = &self.properties {
            put("properties", map_value(p));
        }
        match &self.additional_properties {
            Some(AdditionalProperties::Allowed(b)) => {
                put("additionalProperties", Value::from(u8::from(*b)));
            }
            Some(AdditionalProperties::Schema(s)) => put("additionalProperties", s.to_pve_value()),
            None => {}
        }
        if let Some(r) = &self.requires {
            put("requires", r.clone());
        }
        if let Some(t) = &self.instance_types {
            put("instance-types", Value::from(t.clone()));
        }
        if let Some(o) = &self.one_of {
            put(
                "oneOf",
                Value::Array(o.iter().map(Schema::to_pve_value).collect()),
            );
        }
        if let Some(links) = &self.links {
            let links = links
                .iter()
                .map(|l| serde_json::json!({"rel": l.rel, "href": l.href}))
                .collect();
            put("links", Value::Array(links));
        }
        Value::Object(m)
    }
}

/// A property map in PVE's dialect.
pub(crate) fn map_value(map: &BTreeMap<String, Schema>) -> Value {
    Value::Object(
        map.iter()
            .map(|(k, s)| (k.clone(), s.to_pve_value()))
            .collect(),
    )
}

/// A JSON number, integral when the value is.
pub(crate) fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}
