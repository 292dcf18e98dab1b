// Every image of one atlas as a camera-facing quad. Each vertex carries its image's centre in
// two layouts; `settings.progress` blends them, so a layout change animates on the GPU without
// the CPU rewriting positions every frame.

#import bevy_pbr::mesh_functions::get_world_from_local
#import bevy_pbr::mesh_view_bindings::view

struct AtlasSettings {
    // 0 = at `from_centre`, 1 = at `to_centre` (already eased).
    progress: f32,
    // Side of an image's cell in world units.
    image_size: f32,
    // Brightness of images outside the current search or filter.
    dim: f32,
    // Image ids drawn larger and framed; u32::MAX for none.
    hovered: u32,
    selected: u32,
    // Extra distance towards the camera, in image sizes (close-up thumbnails sit in front).
    lift: f32,
    // Unused: WebGL2 wants uniform blocks in whole multiples of 16 bytes.
    padding: vec2<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> settings: AtlasSettings;
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var atlas_texture: texture_2d<f32>;
@group(#{MATERIAL_BIND_GROUP}) @binding(2) var atlas_sampler: sampler;

struct Vertex {
    @builtin(instance_index) instance_index: u32,
    @location(0) from_centre: vec3<f32>,
    @location(1) to_centre: vec3<f32>,
    @location(2) uv: vec2<f32>,
    // This corner's offset from the centre, in cells (aspect ratio kept).
    @location(3) corner: vec2<f32>,
    @location(4) image: u32,
    // 1 for images in the current search or filter, 0 for the others.
    @location(5) emphasis: f32,
};

struct VertexOutput {
    @builtin(position) clip_position: vec4<f32>,
    @location(0) uv: vec2<f32>,
    // Position inside the quad, 0..1 on both axes, for the highlight frame.
    @location(1) local: vec2<f32>,
    @location(2) brightness: f32,
    @location(3) @interpolate(flat) highlight: u32,
};

@vertex
fn vertex(v: Vertex) -> VertexOutput {
    let local_centre = mix(v.from_centre, v.to_centre, settings.progress);
    let centre = (get_world_from_local(v.instance_index) * vec4(local_centre, 1.0)).xyz;
    let right = view.world_from_view[0].xyz;
    let up = view.world_from_view[1].xyz;
    let towards_camera = view.world_from_view[2].xyz;

    var highlight = 0u;
    var scale = settings.image_size;
    if v.image == settings.selected {
        highlight = 2u;
        scale *= 1.3;
    } else if v.image == settings.hovered {
        highlight = 1u;
        scale *= 1.2;
    }
    // Images of a flat layout share one plane: a tiny per-image step towards the camera keeps
    // overlaps stable instead of flickering, and lifts the highlighted image above its neighbours.
    let lift = (f32(v.image % 1024u) * 1e-5 + f32(highlight) * 0.02 + settings.lift) * settings.image_size;
    let world = centre + (right * v.corner.x + up * v.corner.y) * scale + towards_camera * lift;

    var out: VertexOutput;
    out.clip_position = view.clip_from_world * vec4(world, 1.0);
    out.uv = v.uv;
    out.local = sign(v.corner) * 0.5 + 0.5;
    out.brightness = mix(settings.dim, 1.0, v.emphasis);
    out.highlight = highlight;
    return out;
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let colour = textureSample(atlas_texture, atlas_sampler, in.uv).rgb * in.brightness;
    if in.highlight > 0u {
        let edge = min(min(in.local.x, 1.0 - in.local.x), min(in.local.y, 1.0 - in.local.y));
        if edge < 0.04 {
            // White for the hovered image, gold (sRGB 255, 199, 51) for the open one; the
            // window's sRGB target converts these linear values.
            return select(vec4(1.0, 1.0, 1.0, 1.0), vec4(1.0, 0.571, 0.033, 1.0), in.highlight == 2u);
        }
    }
    return vec4(colour, 1.0);
}
