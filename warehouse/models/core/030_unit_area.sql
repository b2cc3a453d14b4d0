-- core.unit_area: one row per org unit: the commune it belongs to (itself for a commune, ward or
-- special zone; its commune for a health station) and its province, found by walking parent_code
-- up the hierarchy (a pre-merger commune reaches its province through its former district, or by
-- its code when its former province has no parent). The
-- marts aggregate units into communes, provinces and the country with it.
create or replace view core.unit_area as
with recursive up(unit_code, ancestor_code, ancestor_type, depth) as (
    select unit_code, unit_code, unit_type, 0 from core.org_unit
    union all
    select up.unit_code, p.unit_code, p.unit_type, up.depth + 1
    from up
    join core.org_unit c on c.unit_code = up.ancestor_code
    join core.org_unit p on p.unit_code = c.parent_code
    where up.depth < 8 and up.ancestor_type <> 'province'
),
walked as (
    select unit_code,
           arg_min(ancestor_code, depth) filter (where ancestor_type in ('commune', 'ward', 'special_zone')) as commune_code,
           arg_min(ancestor_code, depth) filter (where ancestor_type = 'province') as province_code
    from up
    group by unit_code
)
-- a unit under a former province (merged away in July 2025, no parent) belongs to the province
-- its code names (<ABBR>.<code>: the unit-code scheme)
select w.unit_code, w.commune_code, coalesce(w.province_code, p.unit_code) as province_code
from walked w
left join core.org_unit p on p.unit_type = 'province' and p.unit_code = split_part(w.unit_code, '.', 1);

comment on view core.unit_area is 'One row per org unit: the commune it belongs to (itself for a commune, ward or special zone; the commune of a health station) and its province (by the parent hierarchy).';
comment on column core.unit_area.unit_code is 'Org unit (core.org_unit).';
comment on column core.unit_area.commune_code is 'Commune, ward or special zone the unit is or belongs to; null for provincial units (departments, the province).';
comment on column core.unit_area.province_code is 'Province the unit belongs to (the province itself for a province).';
