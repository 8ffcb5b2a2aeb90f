//! Keeps `ingest::shape` (the document's shape as data, used to check written values cheaply) in
//! step with the schema types: every field of a fully populated case is described and accepted, and
//! for every scalar field, each wrong-typed substitute is refused by the shape exactly when
//! hydrating the case fails.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, Prop, ReadDoc, ScalarValue, Value, ROOT};
use autosurgeon::{hydrate, reconcile};
use fengqiao_schema::document::Case;
use fengqiao_schema::fixtures::full_case;
use fengqiao_sync::ingest::shape;

struct Leaf {
    /// Path with `[]` for list indices, as the shape names it.
    shape_path: String,
    /// Where it is: the containing object and the property.
    obj: ObjId,
    prop: Prop,
    value: Value<'static>,
}

fn walk(doc: &AutoCommit, obj: &ObjId, ty: ObjType, path: &str, out: &mut Vec<Leaf>) {
    let mut visit = |prop: Prop, value: Value<'static>, id: ObjId| {
        let seg = match &prop {
            Prop::Map(k) => k.clone(),
            Prop::Seq(_) => "[]".to_string(),
        };
        let child_path = if path.is_empty() { seg } else { format!("{path}/{seg}") };
        out.push(Leaf { shape_path: child_path.clone(), obj: obj.clone(), prop, value: value.clone() });
        if let Value::Object(t) = value {
            if t != ObjType::Text {
                walk(doc, &id, t, &child_path, out);
            }
        }
    };
    match ty {
        ObjType::Map | ObjType::Table => {
            for key in doc.keys(obj).collect::<Vec<_>>() {
                let (v, id) = doc.get(obj, key.as_str()).unwrap().unwrap();
                visit(Prop::Map(key), v.to_owned(), id);
            }
        }
        ObjType::List => {
            for i in 0..doc.length(obj) {
                let (v, id) = doc.get(obj, i).unwrap().unwrap();
                visit(Prop::Seq(i), v.to_owned(), id);
            }
        }
        ObjType::Text => {}
    }
}

fn full_doc() -> AutoCommit {
    let mut doc = AutoCommit::new();
    reconcile(&mut doc, full_case()).unwrap();
    doc.commit();
    doc
}

fn server_only(path: &str) -> bool {
    path.starts_with("custody") || path.starts_with("review")
}

#[test]
fn every_field_of_a_full_case_is_described_and_accepted() {
    let doc = full_doc();
    let mut leaves = Vec::new();
    walk(&doc, &ROOT, ObjType::Map, "", &mut leaves);
    assert!(leaves.len() > 150, "the full case fills most fields ({} leaves)", leaves.len());
    let mut missing = Vec::new();
    for leaf in &leaves {
        if server_only(&leaf.shape_path) {
            continue;
        }
        match shape::field(&leaf.shape_path) {
            Some(f) => assert!(shape::accepts(f, &leaf.value), "{} refuses its own value {:?}", leaf.shape_path, leaf.value),
            None => missing.push(leaf.shape_path.clone()),
        }
    }
    assert!(missing.is_empty(), "fields the shape does not describe: {missing:?}");
}

#[test]
fn the_shape_refuses_exactly_what_hydration_refuses() {
    let mut doc = full_doc();
    let mut leaves = Vec::new();
    walk(&doc, &ROOT, ObjType::Map, "", &mut leaves);
    let substitutes = [
        ScalarValue::Null,
        ScalarValue::Str("x".into()),
        ScalarValue::Int(7),
        ScalarValue::Int(-7),
        ScalarValue::Uint(7),
        ScalarValue::F64(1.5),
        ScalarValue::Boolean(true),
        ScalarValue::Str("2026-02-30".into()),
        ScalarValue::Str("2026-03-01".into()),
        ScalarValue::Str("2026-03-01T00:00:00Z".into()),
    ];
    let mut disagreements = Vec::new();
    let mut checked = 0;
    for leaf in leaves.iter().filter(|l| !server_only(&l.shape_path)) {
        let field = shape::field(&leaf.shape_path).expect("described (see the other test)");
        for sub in &substitutes {
            let mut d = doc.fork();
            d.put(&leaf.obj, leaf.prop.clone(), sub.clone()).unwrap();
            let hydrates = hydrate::<_, Case>(&d).is_ok();
            let accepted = shape::accepts(field, &Value::Scalar(std::borrow::Cow::Owned(sub.clone())));
            checked += 1;
            if hydrates != accepted {
                disagreements.push(format!("{} = {sub:?}: hydrates {hydrates}, shape accepts {accepted}", leaf.shape_path));
            }
        }
    }
    assert!(checked > 1500);
    assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
}
