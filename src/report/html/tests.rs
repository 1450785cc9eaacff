use super::*;

fn tracefile(names: &[&str]) -> Tracefile {
    let mut t = Tracefile::default();
    for n in names {
        t.files.insert(n.to_string(), FileRecord::default());
    }
    t
}

/// Page paths are made of normal components only, whatever the data
/// names: nothing climbs out of the report or lands on the index, the
/// style sheet, or another page (or its directory).
#[test]
fn page_paths_stay_inside_and_apart() {
    let names = [
        "/a/b.c",
        "a/b.c",
        "../../etc/passwd",
        "./x//y.c",
        "index",
        "xencov.css",
        "x",
        "x.html/y.c",
        "/",
        "..",
    ];
    let site = Site::new(&tracefile(&names));
    assert_eq!(site.pages.len(), names.len());
    let mut seen = BTreeSet::new();
    for (name, page) in &site.pages {
        assert!(page.ends_with(".html"), "{name}: {page}");
        for part in page.split('/') {
            assert!(!matches!(part, "" | "." | ".."), "{name}: {page}");
        }
        assert!(
            crate::paths::PathMapping::default()
                .relative(page.as_bytes())
                .is_ok(),
            "{name}: {page}"
        );
        assert!(page != INDEX && page != STYLE, "{name}: {page}");
        assert!(seen.insert(page.clone()), "{name}: {page} twice");
    }
    // No page is a directory of another.
    for p in &seen {
        for q in &seen {
            assert!(!q.starts_with(&format!("{p}/")), "{p} and {q}");
        }
    }
    assert_eq!(site.pages["/a/b.c"], "a/b.c.html");
    assert_eq!(site.pages["a/b.c"], "a/b.c~2.html");
    assert_eq!(site.pages["../../etc/passwd"], "__/__/etc/passwd.html");
    assert_eq!(site.pages["index"], "index~2.html");
}

/// Names and source text are escaped; links climb back to the index.
#[test]
fn markup_from_the_data_is_escaped() {
    let mut t = tracefile(&["/s/<b>&.c"]);
    if let Some(r) = t.files.get_mut("/s/<b>&.c") {
        r.lines.insert(1, 3);
        r.lines.insert(2, 0);
        r.branches.insert((1, 0, 0), Some(1));
        r.branches.insert((1, 0, 1), Some(0));
        r.branches.insert((2, 0, 0), None);
    }
    let site = Site::new(&t);
    let mut index = Vec::new();
    write_index(&mut index, &t, &site, "t").unwrap();
    let index = String::from_utf8(index).unwrap();
    assert!(
        index.contains("data-name=\"/s/&lt;b&gt;&amp;.c\""),
        "{index}"
    );
    assert!(!index.contains("<b>"));
    let mut page = Vec::new();
    let rec = &t.files["/s/<b>&.c"];
    let src = b"int a = x < y && \"q\";\nreturn;\n";
    write_file_page(&mut page, "/s/<b>&.c", rec, Source::Text(src), &site, "t").unwrap();
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains("int a = x &lt; y &amp;&amp; &quot;q&quot;;"),
        "{page}"
    );
    assert!(page.contains("href=\"../index.html\""), "{page}");
    assert!(page.contains("<tr id=\"L1\" class=\"part\">"), "{page}");
    assert!(page.contains("<tr id=\"L2\" class=\"miss\">"), "{page}");
    let mut missing = Vec::new();
    write_file_page(
        &mut missing,
        "/s/<b>&.c",
        rec,
        Source::Missing("/s: gone"),
        &site,
        "t",
    )
    .unwrap();
    let missing = String::from_utf8(missing).unwrap();
    assert!(missing.contains("Source not available: /s: gone"));
    assert!(missing.contains("id=\"L2\""));
}
